--[[ work_sweep: hand back a queue's lapsed claims (bounded), for the periodic lease sweep.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] new          zset  id -> arrival seq, status NEW
  KEYS[3] in_progress  zset  id -> arrival seq, status IN_PROGRESS
  KEYS[4] failed       zset  id -> arrival seq, status FAILED
  KEYS[5] leases       zset  id -> lease end ms of every IN_PROGRESS item
  ARGV[1] max_retries  lapsed leases an item survives (back to NEW); the next lapse makes it FAILED
  ARGV[2] bound        lapsed leases handed back by this call at most
  Returns: {handed back, the earliest lease end left (ms) or -1 when no claim is left}; when the
           bound was reached the earliest end left may already be due
  Errors:  INVALID max_retries or bound is not a number ]]
--- @include "now_ms"
--- @include "work_leases"
local max_retries, bound = tonumber(ARGV[1]), tonumber(ARGV[2])
if not (max_retries and bound) then
  return redis.error_reply("INVALID max_retries and bound must be numbers")
end
local handed = return_lapsed(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], now_ms(), max_retries, bound)
local head = redis.call("ZRANGE", KEYS[5], 0, 0, "WITHSCORES")
if #head == 0 then return {handed, -1} end
return {handed, tonumber(head[2])}
