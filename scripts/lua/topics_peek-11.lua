--[[ topics_peek: the oldest visible messages, left where they are.
  KEYS[1..11] as topics_consume (housekeeping runs first, so due and expired messages are current)
  ARGV[1] limit         1..100
  ARGV[2] max_attempts  as topics_consume
  ARGV[3] max_bytes     as topics_consume: stops before the message that would pass it (one at least)
  Returns: {dead_lettered, -1, -1, id1, payload1, meta1, ...} ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
local k = topics_keys()
local limit = tonumber(ARGV[1])
local _, dead = topics_maintain(k, now_ms(), tonumber(ARGV[2]))
local max_bytes = tonumber(ARGV[3])
local out = {dead, -1, -1}
local bytes = 0
for n, id in ipairs(redis.call("ZRANGE", k.ready, 0, limit - 1)) do
  local size = redis.call("HSTRLEN", k.msgs, id)
  if n > 1 and bytes + size > max_bytes then break end
  bytes = bytes + size
  table.insert(out, id)
  table.insert(out, redis.call("HGET", k.msgs, id) or "")
  table.insert(out, redis.call("HGET", k.meta, id) or "0:0:0:")
end
return out
