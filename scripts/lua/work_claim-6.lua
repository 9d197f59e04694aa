--[[ work_claim: hand back lapsed claims (bounded), then move the oldest NEW item to IN_PROGRESS
  under a lease and return it. Scripts run one at a time, so no two callers on any node can
  ever hold the same item at once; each claim gets a new fencing token from `claims`.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] new          zset  id -> arrival seq, status NEW
  KEYS[3] in_progress  zset  id -> arrival seq, status IN_PROGRESS
  KEYS[4] failed       zset  id -> arrival seq, status FAILED (items whose last lease lapsed)
  KEYS[5] leases       zset  id -> lease end ms of every IN_PROGRESS item
  KEYS[6] claims       string counter: the fencing tokens handed out
  ARGV[1] claimed_by   who claims it ("" for nobody in particular)
  ARGV[2] lease_ms     how long the claim holds the item, > 0
  ARGV[3] max_retries  lapsed leases an item survives (back to NEW); the next lapse makes it FAILED
  ARGV[4] bound        lapsed leases handed back by this call at most
  Returns: {item (msgpack, with lease_token and lease_ms), earliest} | nil when no item is NEW;
           earliest is 1 when this lease ends before every other of the queue
  Errors:  INVALID lease_ms, max_retries or bound is not a number ]]
--- @include "now_ms"
--- @include "work_leases"
local items, new, in_progress, failed, leases, claims = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local lease_ms, max_retries, bound = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not (lease_ms and lease_ms > 0 and max_retries and bound) then
  return redis.error_reply("INVALID lease_ms, max_retries and bound must be numbers")
end
local now = now_ms()
return_lapsed(items, new, in_progress, failed, leases, now, max_retries, bound)
while true do
  local head = redis.call("ZRANGE", new, 0, 0, "WITHSCORES")
  if #head == 0 then
    return nil
  end
  local id, seq = head[1], head[2]
  redis.call("ZREM", new, id)
  local raw = redis.call("HGET", items, id)
  if raw then  -- an id without its item cannot happen through these scripts; skip it if it ever does
    local item = cmsgpack.unpack(raw)
    item.status = "IN_PROGRESS"
    item.updated_ms = now
    item.claimed_ms = now
    if ARGV[1] ~= "" then item.claimed_by = ARGV[1] else item.claimed_by = nil end
    item.lease_token = tostring(redis.call("INCR", claims))
    item.lease_span_ms = lease_ms
    item.lease_ms = now + lease_ms
    raw = cmsgpack.pack(item)
    redis.call("HSET", items, id, raw)
    redis.call("ZADD", in_progress, seq, id)
    redis.call("ZADD", leases, item.lease_ms, id)
    return {raw, is_earliest(leases, id)}
  end
end
