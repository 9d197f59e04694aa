--[[ topics_peek: the oldest visible messages, left where they are.
  KEYS[1..11] as topics_consume (housekeeping runs first, so due and expired messages are current)
  ARGV[1] limit         1..100
  ARGV[2] max_attempts  as topics_consume
  Returns: {dead_lettered, -1, id1, payload1, meta1, ...} ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
local k = topics_keys()
local limit = tonumber(ARGV[1])
local _, dead = topics_maintain(k, now_ms(), tonumber(ARGV[2]))
local out = {dead, -1}
for _, id in ipairs(redis.call("ZRANGE", k.ready, 0, limit - 1)) do
  table.insert(out, id)
  table.insert(out, redis.call("HGET", k.msgs, id) or "")
  table.insert(out, redis.call("HGET", k.meta, id) or "0:0:0:")
end
return out
