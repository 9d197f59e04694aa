--[[ topics_grequeue: a member of a consumer group hands a message back to its group.
  KEYS[1..12] as topics_gconsume (includes/topics_group)
  ARGV[1] id
  ARGV[2] max_attempts  as topics_gconsume: the group dead-letters the message at this many
  Returns: {status, retry_count}: "requeued" | "dead_lettered" (now or already) | "queued"
           (already handed back: nothing changed)
  Errors:  NOTFOUND (the group does not hold it) ]]
--- @include "now_ms"
local g = {inflight = KEYS[9], ready = KEYS[10], retry = KEYS[11], dead = KEYS[12]}
local id, max_attempts = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
if redis.call("ZREM", g.inflight, id) == 1 then
  local retry = redis.call("HINCRBY", g.retry, id, 1)
  if max_attempts > 0 and retry >= max_attempts then
    redis.call("ZADD", g.dead, now, id)
    return {"dead_lettered", retry}
  end
  redis.call("ZADD", g.ready, now, id)
  return {"requeued", retry}
end
local retry = tonumber(redis.call("HGET", g.retry, id) or "0")
if redis.call("ZSCORE", g.ready, id) then return {"queued", retry} end
if redis.call("ZSCORE", g.dead, id) then return {"dead_lettered", retry} end
return redis.error_reply("NOTFOUND message " .. id .. " is not held by this consumer group")
