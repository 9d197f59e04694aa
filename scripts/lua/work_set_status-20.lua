--[[ work_set_status: move one item to another status, if the move is allowed and, when the
  caller sends a lease token, the claim it names still holds the item. An application failure
  re-queues the work as a new linked item, up to the queue's max_retries.
  KEYS[1] items  KEYS[2] new  KEYS[3] in_progress  KEYS[4] done  KEYS[5] failed  KEYS[6] abandoned
  KEYS[7] leases  KEYS[8] claims  KEYS[9] seq  KEYS[10] ready  KEYS[11] deferred  KEYS[12] due
  KEYS[13] settings  KEYS[14] refs  KEYS[15] ref_index  KEYS[16] arrivals  KEYS[17] expiry
  KEYS[18] triggers  KEYS[19] events  KEYS[20] firings
  (the queue's keys, described in the include work_queue)
  ARGV[1] id           the item
  ARGV[2] status       target: NEW, DONE, FAILED or ABANDONED
  ARGV[3] message      "1" to replace the item's message with ARGV[4], "0" to keep it
  ARGV[4] message text
  ARGV[5] token        the claim's lease_token, "" when the caller sends none (no fencing)
  ARGV[6] exception    "business", "application" or "" (FAILED only)
  ARGV[7] by           who moves it, for the history ("" for nobody named)
  ARGV[8] retry_id     a fresh UUID: the id of the retry an application failure makes
  ARGV[9] max_retries  the node's default (the queue's setting overrides it)
  ARGV[10] retention_ms the node's default retention of final items
  Allowed moves: IN_PROGRESS -> DONE | FAILED | ABANDONED | NEW (give back);
                 NEW -> ABANDONED; FAILED | ABANDONED -> NEW (retry, which restarts the retry count)
  The queue's QUEUE triggers are evaluated after the move (include work_triggers).
  Returns: {the updated item (msgpack)} or {item, its retry (msgpack)} after an application
           failure with retries left
  Errors:  NOTFOUND no such item; CONFLICT the move is not allowed from the item's status, the
           token's claim no longer holds the item (its lease lapsed and it was handed back), or
           a retry to NEW would reopen a unique reference another open item holds;
           INVALID unknown target status ]]
--- @include "now_ms"
--- @include "work_queue"
--- @include "work_triggers"
--- @include "work_moves"
local allowed = {
  DONE = {IN_PROGRESS = true},
  FAILED = {IN_PROGRESS = true},
  ABANDONED = {NEW = true, IN_PROGRESS = true},
  NEW = {IN_PROGRESS = true, FAILED = true, ABANDONED = true},
}
local id, target, token, exception = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
if not allowed[target] then
  return redis.error_reply("INVALID status must be NEW, DONE, FAILED or ABANDONED")
end
local raw = redis.call("HGET", Q.items, id)
if not raw then
  return redis.error_reply("NOTFOUND no such item in this queue")
end
local item = cmsgpack.unpack(raw)
local current = item.status
if token ~= "" and (current ~= "IN_PROGRESS" or item.lease_token ~= token) then
  return redis.error_reply("CONFLICT this lease_token's claim no longer holds the item: its lease lapsed " ..
    "and the item was handed back (now " .. tostring(current) .. ")")
end
if not allowed[target][current] then
  return redis.error_reply("CONFLICT cannot move an item from " .. tostring(current) .. " to " .. target)
end
local settings = queue_settings(tonumber(ARGV[9]), tonumber(ARGV[10]))
if target == "NEW" and FINAL[current] and item.reference and settings.unique then
  local open = holder(item.reference)
  if open and open.id ~= id then
    return redis.error_reply("CONFLICT reference '" .. item.reference .. "' is held by item " .. open.id ..
      " (" .. open.status .. ")")
  end
end
local now = now_ms()
purge_expired(now)
local by = nil
if ARGV[7] ~= "" then by = ARGV[7] end
local message = nil
if ARGV[3] == "1" then
  item.message = ARGV[4]
  message = ARGV[4]
end
if target == "NEW" then
  item.claimed_by, item.claimed_ms, item.exception_type = nil, nil, nil
  if current ~= "IN_PROGRESS" then item.retries = nil end
  if item.reference and settings.unique and FINAL[current] then redis.call("HSET", Q.refs, item.reference, id) end
end
if target == "FAILED" and exception ~= "" then item.exception_type = exception end
transition(item, id, target, now, settings, by, message)
local retry = nil
if target == "FAILED" and exception == "application" and (item.retry_number or 0) < settings.max_retries then
  retry = {queue_name = item.queue_name, status = "NEW", data = item.data, reference = item.reference,
    created_by = item.created_by, created_date = item.created_date, priority = item.priority,
    due_ms = item.due_ms, retry_number = (item.retry_number or 0) + 1, parent_id = id}
  add_item(retry, ARGV[8], now, settings)
  redis.call("HSET", Q.items, ARGV[8], cmsgpack.pack(retry))
  item.retried_as = ARGV[8]
end
raw = cmsgpack.pack(item)
redis.call("HSET", Q.items, id, raw)
evaluate_triggers(now)  -- a give-back, a retry or a retry item may make enough items wait
if retry then return {raw, cmsgpack.pack(retry)} end
return {raw}
