--[[ security_ban_note: list a ban that security_fail just set in the ban index, which /metrics
  counts (a ban is a key that expires, in the address's own slot: the index is what lets the
  count be read without a SCAN). Ended bans are removed from the bucket first.
  KEYS[1] index    zset  ban key -> the ban's end ms (one of BAN_INDEX_BUCKETS, crc32(ban key) % 16)
  ARGV[1] ban key  the address's ban key
  ARGV[2] ban_ms   the ban's duration, > 0
  Returns: how many bans this bucket lists now
  Errors:  none ]]
--- @include "now_ms"
local index = KEYS[1]
local now = now_ms()
redis.call("ZREMRANGEBYSCORE", index, "-inf", now)
redis.call("ZADD", index, now + tonumber(ARGV[2]), ARGV[1])
return redis.call("ZCARD", index)
