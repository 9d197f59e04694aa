--[[ work_set_status: move one item to another status, if the move is allowed and, when the
  caller sends a lease token, the claim it names still holds the item.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] new          zset  id -> arrival seq, status NEW
  KEYS[3] in_progress  zset  status IN_PROGRESS
  KEYS[4] done         zset  status DONE
  KEYS[5] failed       zset  status FAILED
  KEYS[6] abandoned    zset  status ABANDONED
  KEYS[7] leases       zset  id -> lease end ms of every IN_PROGRESS item
  ARGV[1] id           the item
  ARGV[2] status       target: NEW, DONE, FAILED or ABANDONED
  ARGV[3] message      "1" to replace the item's message with ARGV[4], "0" to keep it
  ARGV[4] message text
  ARGV[5] token        the claim's lease_token, "" when the caller sends none (no fencing)
  Allowed moves: IN_PROGRESS -> DONE | FAILED | ABANDONED | NEW (give back);
                 NEW -> ABANDONED; FAILED | ABANDONED -> NEW (retry, which restarts the retry count)
  Returns: the updated item (msgpack)
  Errors:  NOTFOUND no such item; CONFLICT the move is not allowed from the item's status, or the
           token's claim no longer holds the item (its lease lapsed and it was handed back);
           INVALID unknown target status ]]
--- @include "now_ms"
local items, leases = KEYS[1], KEYS[7]
local sets = {NEW = KEYS[2], IN_PROGRESS = KEYS[3], DONE = KEYS[4], FAILED = KEYS[5], ABANDONED = KEYS[6]}
local allowed = {
  DONE = {IN_PROGRESS = true},
  FAILED = {IN_PROGRESS = true},
  ABANDONED = {NEW = true, IN_PROGRESS = true},
  NEW = {IN_PROGRESS = true, FAILED = true, ABANDONED = true},
}
local id, target, token = ARGV[1], ARGV[2], ARGV[5]
if not allowed[target] then
  return redis.error_reply("INVALID status must be NEW, DONE, FAILED or ABANDONED")
end
local raw = redis.call("HGET", items, id)
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
redis.call("ZREM", sets[current], id)
redis.call("ZADD", sets[target], item.seq, id)
if current == "IN_PROGRESS" then
  redis.call("ZREM", leases, id)
  item.lease_ms, item.lease_token, item.lease_span_ms = nil, nil, nil
end
item.status = target
item.updated_ms = now_ms()
if ARGV[3] == "1" then item.message = ARGV[4] end
if target == "NEW" then
  item.claimed_by = nil
  item.claimed_ms = nil
  if current ~= "IN_PROGRESS" then item.retries = nil end
end
raw = cmsgpack.pack(item)
redis.call("HSET", items, id, raw)
return raw
