--[[ topics_gredrive: hand a consumer group's dead letters back to it, retry_count 0.
  KEYS[1..12] as topics_gconsume (includes/topics_group)
  ARGV[1] limit  most to move in this call
  Dead letters whose message is gone (expired, purged) are dropped.
  Returns: {moved, left} ]]
--- @include "now_ms"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_group"
local g = topics_group_keys()
local now, moved = now_ms(), 0
for _, id in ipairs(redis.call("ZRANGE", g.dead, 0, tonumber(ARGV[1]) - 1)) do
  redis.call("ZREM", g.dead, id)
  if redis.call("HEXISTS", g.meta, id) == 1 then
    redis.call("HDEL", g.retry, id)
    redis.call("ZADD", g.ready, now, id)
    moved = moved + 1
  else
    topics_group_done(g, id)
  end
end
return {moved, redis.call("ZCARD", g.dead)}
