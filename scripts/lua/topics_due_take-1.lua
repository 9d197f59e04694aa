--[[ topics_due_take: take topics whose housekeeping or webhook work is due, so exactly one node
  sweeps each. The caller notes each topic's next due time again after sweeping it.
  KEYS[1] due    zset topic -> ms at (or before) which it has work: a delayed message, a lease
                 or ttl ending, a webhook delivery (the index of due work of one bucket)
  ARGV[1] limit  most topics to take
  Returns: {topic1, due1, topic2, due2, ...} ]]
--- @include "now_ms"
local taken = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now_ms(), "WITHSCORES", "LIMIT", 0, tonumber(ARGV[1]))
for i = 1, #taken, 2 do
  redis.call("ZREM", KEYS[1], taken[i])
end
return taken
