--[[ work_sweep: the periodic upkeep of one queue: hand back lapsed claims (bounded), make due
  deferred items claimable, remove expired final items (bounded), end QUEUE trigger runs past
  their timeout and fire the triggers the waiting items call for (include work_triggers).
  KEYS[1] items  KEYS[2] new  KEYS[3] in_progress  KEYS[4] done  KEYS[5] failed  KEYS[6] abandoned
  KEYS[7] leases  KEYS[8] claims  KEYS[9] seq  KEYS[10] ready  KEYS[11] deferred  KEYS[12] due
  KEYS[13] settings  KEYS[14] refs  KEYS[15] ref_index  KEYS[16] arrivals  KEYS[17] expiry
  KEYS[18] triggers  KEYS[19] events  KEYS[20] firings
  (the queue's keys, described in the include work_queue)
  ARGV[1] max_retries  the node's default (the queue's setting overrides it)
  ARGV[2] retention_ms the node's default retention of final items
  ARGV[3] bound        lapsed leases handed back by this call at most
  Returns: {handed back, the earliest lease end left (ms) or -1 when no claim is left}; when the
           bound was reached the earliest end left may already be due
  Errors:  INVALID max_retries, retention_ms or bound is not a number ]]
--- @include "now_ms"
--- @include "work_queue"
--- @include "work_triggers"
--- @include "work_moves"
--- @include "work_upkeep"
local bound = tonumber(ARGV[3])
if not (tonumber(ARGV[1]) and tonumber(ARGV[2]) and bound) then
  return redis.error_reply("INVALID max_retries, retention_ms and bound must be numbers")
end
local settings = queue_settings(tonumber(ARGV[1]), tonumber(ARGV[2]))
local now = now_ms()
purge_expired(now)
promote_deferred(now, 1000)
local handed = return_lapsed(now, settings, bound)
evaluate_triggers(now)  -- deferred items come due, runs time out, lapsed claims come back
local head = redis.call("ZRANGE", Q.leases, 0, 0, "WITHSCORES")
if #head == 0 then return {handed, -1} end
return {handed, tonumber(head[2])}
