--[[ work_list: one page of a queue's items in one status, oldest first.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] status set   zset  id -> arrival seq
  ARGV[1] after        arrival seq to start after (0 for the first page)
  ARGV[2] limit        page size, 1..1000
  Returns: {total in this status, now ms (for the overdue flag), item (msgpack), item, ...}
  Errors:  none ]]
--- @include "now_ms"
local items, status_set = KEYS[1], KEYS[2]
local ids = redis.call("ZRANGEBYSCORE", status_set, "(" .. ARGV[1], "+inf", "LIMIT", 0, tonumber(ARGV[2]))
local out = {redis.call("ZCARD", status_set), now_ms()}
if #ids > 0 then
  for _, raw in ipairs(redis.call("HMGET", items, unpack(ids))) do
    if raw then out[#out + 1] = raw end
  end
end
return out
