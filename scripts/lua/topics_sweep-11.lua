--[[ topics_sweep: housekeeping for one topic when nobody reads it, so stats stay true and
  lapsed leases reach the dead-letter topic on time.
  KEYS[1..11] as topics_consume
  ARGV[1] max_attempts  as topics_consume
  ARGV[2] channel       wake-up pub/sub channel
  ARGV[3] topic         topic name, for the wake-up
  Publishes "<topic> <promoted> 0 -1 0" when messages became visible.
  Returns: {promoted, dead_lettered} ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
local k = topics_keys()
local promoted, dead = topics_maintain(k, now_ms(), tonumber(ARGV[1]))
if promoted > 0 then
  redis.call("PUBLISH", ARGV[2], ARGV[3] .. " " .. promoted .. " 0 -1 0")
end
return {promoted, dead}
