--[[ topics_peek: the oldest visible messages, left where they are.
  KEYS[1..12] as topics_consume (housekeeping runs first, so due and expired messages are current)
  ARGV[1] limit         1..1000
  ARGV[2] max_attempts  as topics_consume
  ARGV[3] max_bytes     as topics_consume: stops before the message that would pass it (one at least)
  ARGV[4] filter_key    as topics_consume: "" or only messages whose JSON payload has this key
  ARGV[5] filter_val    with this value, among the oldest FILTER_SCAN ready messages
  Returns: {dead_lettered, -1, -1, id1, payload1, meta1, ...} ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_filter"
local k = topics_keys()
local limit = tonumber(ARGV[1])
local _, dead = topics_maintain(k, now_ms(), tonumber(ARGV[2]))
local max_bytes = tonumber(ARGV[3])
local fkey, fval = ARGV[4] or "", ARGV[5] or ""
local out = {dead, -1, -1}
local bytes, shown, decoded = 0, 0, 0
local candidates = redis.call("ZRANGE", k.ready, 0, (fkey ~= "" and FILTER_SCAN or limit) - 1)
for _, id in ipairs(candidates) do
  if shown >= limit or decoded >= FILTER_BYTES then break end
  local payload = redis.call("HGET", k.msgs, id) or ""
  if fkey == "" or topics_matches(payload, fkey, fval) then
    if shown > 0 and bytes + #payload > max_bytes then break end
    bytes = bytes + #payload
    shown = shown + 1
    table.insert(out, id)
    table.insert(out, payload)
    table.insert(out, redis.call("HGET", k.meta, id) or "0:0:0:")
  end
  if fkey ~= "" then decoded = decoded + #payload end
end
return out
