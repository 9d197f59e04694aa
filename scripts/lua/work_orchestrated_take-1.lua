--[[ work_orchestrated_take: the queues of one bucket of the work sweep's index (queues with QUEUE
  triggers or an events topic) whose visit is due, the longest-waiting first; each is marked
  visited: its score becomes `mark` = now + interval, its next visit.
  KEYS[1] queues       zset  queue name -> next visit ms (0: as soon as possible)
  ARGV[1] limit        queues to take at most
  ARGV[2] interval_ms  time to the next visit
  Returns: {mark, queue name, ...}
  Errors:  none ]]
--- @include "now_ms"
local now = now_ms()
local mark = now + tonumber(ARGV[2])
local out = {mark}
for _, name in ipairs(redis.call("ZRANGE", KEYS[1], "-inf", now, "BYSCORE", "LIMIT", 0, tonumber(ARGV[1]))) do
  redis.call("ZADD", KEYS[1], mark, name)
  out[#out + 1] = name
end
return out
