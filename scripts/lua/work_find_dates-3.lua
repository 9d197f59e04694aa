--[[ work_find_dates: one page of the items of one status created within [from, to], oldest
  first. Arrival seqs grow with creation time, so the time range is a seq range, found in the
  arrivals zset: O(log n + page).
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] status set   zset  id -> arrival seq
  KEYS[3] arrivals     zset  seq (16 digits; bare in items made before) -> created ms
  ARGV[1] from_ms      earliest creation time, ms
  ARGV[2] to_ms        latest creation time, ms
  ARGV[3] after        arrival seq to start after (0 for the first page)
  ARGV[4] limit        page size, 1..1000
  Returns: {now ms, item (msgpack), ...}
  Errors:  none ]]
--- @include "now_ms"
local items, status_set, arrivals = KEYS[1], KEYS[2], KEYS[3]
local out = {now_ms()}
local first = redis.call("ZRANGE", arrivals, ARGV[1], "+inf", "BYSCORE", "LIMIT", 0, 1)[1]
local last = redis.call("ZRANGE", arrivals, ARGV[2], "-inf", "BYSCORE", "REV", "LIMIT", 0, 1)[1]
if not first or not last then return out end
local low = math.max(tonumber(first), tonumber(ARGV[3]) + 1)
local ids = redis.call("ZRANGE", status_set, low, last, "BYSCORE", "LIMIT", 0, tonumber(ARGV[4]))
if #ids == 0 then return out end
for _, raw in ipairs(redis.call("HMGET", items, unpack(ids))) do
  if raw then out[#out + 1] = raw end
end
return out
