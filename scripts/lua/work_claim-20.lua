--[[ work_claim: hand back lapsed claims (bounded), make due deferred items claimable, then move
  the next NEW item (highest priority, oldest within it) to IN_PROGRESS under a lease and
  return it: O(log n), the head of `ready`. Scripts run one at a time, so no two callers on any
  node ever hold the same item at once; each claim gets a new fencing token from `claims`.
  KEYS[1] items  KEYS[2] new  KEYS[3] in_progress  KEYS[4] done  KEYS[5] failed  KEYS[6] abandoned
  KEYS[7] leases  KEYS[8] claims  KEYS[9] seq  KEYS[10] ready  KEYS[11] deferred  KEYS[12] due
  KEYS[13] settings  KEYS[14] refs  KEYS[15] ref_index  KEYS[16] arrivals  KEYS[17] expiry
  KEYS[18] triggers  KEYS[19] events  KEYS[20] firings
  (the queue's keys, described in the include work_queue)
  ARGV[1] claimed_by   who claims it ("" for nobody in particular)
  ARGV[2] lease_ms     how long the claim holds the item, > 0
  ARGV[3] max_retries  the node's default: lapsed leases an item survives (the queue's setting overrides)
  ARGV[4] retention_ms the node's default retention of final items
  ARGV[5] bound        lapsed leases handed back by this call at most
  The queue's QUEUE triggers are evaluated after the hand-backs (include work_triggers).
  Returns: {item (msgpack, with lease_token and lease_ms), earliest} | nil when no NEW item is
           claimable; earliest is 1 when this lease ends before every other of the queue
  Errors:  INVALID lease_ms, max_retries or bound is not a number ]]
--- @include "now_ms"
--- @include "work_queue"
--- @include "work_triggers"
--- @include "work_moves"
--- @include "work_upkeep"
local lease_ms, bound = tonumber(ARGV[2]), tonumber(ARGV[5])
if not (lease_ms and lease_ms > 0 and tonumber(ARGV[3]) and tonumber(ARGV[4]) and bound) then
  return redis.error_reply("INVALID lease_ms, max_retries, retention_ms and bound must be numbers")
end
local settings = queue_settings(tonumber(ARGV[3]), tonumber(ARGV[4]))
local now = now_ms()
purge_expired(now)
upgrade_new(now)
return_lapsed(now, settings, bound)
promote_deferred(now, 1000)
evaluate_triggers(now)  -- lapsed claims handed back may make enough items wait
while true do
  local head = redis.call("ZRANGE", Q.ready, 0, 0)[1]
  if not head then
    return nil
  end
  local id = head
  redis.call("ZREM", Q.ready, id)
  local raw = redis.call("HGET", Q.items, id)
  if raw then  -- an id without its item cannot happen through these scripts; skip it if it ever does
    local item = cmsgpack.unpack(raw)
    local by = nil
    if ARGV[1] ~= "" then by = ARGV[1] end
    transition(item, id, "IN_PROGRESS", now, settings, by, nil)
    item.claimed_ms = now
    item.claimed_by = by
    item.lease_token = tostring(redis.call("INCR", Q.claims))
    item.lease_span_ms = lease_ms
    item.lease_ms = now + lease_ms
    raw = cmsgpack.pack(item)
    redis.call("HSET", Q.items, id, raw)
    redis.call("ZADD", Q.leases, item.lease_ms, id)
    return {raw, is_earliest(id)}
  end
end
