--[[ work_lease_due: the queues of one sweep bucket whose earliest lease end has come, marked as
  being swept: their score becomes `mark`, a revisit time a little after now. A sweeper that
  dies mid-way so leaves them to be visited again after guard_ms; one that finishes replaces
  the mark (work_lease_index). The mark has a half millisecond, so no lease end equals it.
  KEYS[1] queues       zset  queue name -> earliest lease end ms (or a mark)
  ARGV[1] limit        queues to take at most
  ARGV[2] guard_ms     how far after now the mark lies
  Returns: {mark, queue name, ...}
  Errors:  none ]]
--- @include "now_ms"
local queues = KEYS[1]
local now = now_ms()
local mark = tostring(now + math.floor(tonumber(ARGV[2]))) .. ".5"  -- a string: Lua prints numbers with 14 digits
local out = {mark}
for _, name in ipairs(redis.call("ZRANGE", queues, "-inf", now, "BYSCORE", "LIMIT", 0, tonumber(ARGV[1]))) do
  redis.call("ZADD", queues, mark, name)
  out[#out + 1] = name
end
return out
