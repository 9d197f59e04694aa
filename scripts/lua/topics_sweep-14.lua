--[[ topics_sweep: housekeeping for one topic when nobody reads it, so stats stay true and
  lapsed leases reach the dead-letter topic on time. Called for the topics the index of due
  work hands out (topics_due_take), never for every topic.
  KEYS[1..12] as topics_consume
  KEYS[13]    hookq  zset "msg_id|hook_id" -> due ms (pending webhook deliveries)
  KEYS[14]    hookdrain  zset: a removed last webhook's backlog still being handed back
  ARGV[1] max_attempts  as topics_consume
  ARGV[2] channel       wake-up pub/sub channel
  ARGV[3] topic         topic name, for the wake-up
  Publishes "<topic> <promoted> 0 -1 0" when messages became visible.
  Returns: {promoted, dead_lettered, next_due_at (ms, -1: no scheduled work left),
            hook_due (1: webhook deliveries are due now),
            draining (1: a backlog hand-back was left unfinished, by a node that died mid-way)} ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_due"
local k = topics_keys()
local now = now_ms()
local promoted, dead = topics_maintain(k, now, tonumber(ARGV[1]))
if promoted > 0 then
  redis.call("PUBLISH", ARGV[2], ARGV[3] .. " " .. promoted .. " 0 -1 0")
end
local next_at = topics_first_due({k.delayed, k.inflight, k.expiry, KEYS[13]})
local hook_head = redis.call("ZRANGE", KEYS[13], 0, 0, "WITHSCORES")
local hook_due = (hook_head[2] and tonumber(hook_head[2]) <= now) and 1 or 0
local draining = redis.call("EXISTS", KEYS[14])
if draining == 1 and (next_at < 0 or next_at > now + 30000) then next_at = now + 30000 end
return {promoted, dead, next_at, hook_due, draining}
