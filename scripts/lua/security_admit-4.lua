--[[ security_admit: the whole admission decision for one work API request, in one step:
  ban check, key check (recording the failure, and banning on the threshold), rate limit.
  KEYS[1] ban          string "1" while the address is banned (PX = ban duration)
  KEYS[2] failures     list  ms of the address's latest failed attempts, newest first (at most ARGV[3])
  KEYS[3] keys         hash  SHA-256 hex of an API key -> key id (keys created by `microq api-key`)
  KEYS[4] rate         list  ms of requests admitted for this endpoint and key, newest first
  ARGV[1] digest       SHA-256 hex of the X-API-Key header, "" when there is none
  ARGV[2] env_key      "1" when the key matched a MICROQ_API_KEYS key (checked by the node)
  ARGV[3] threshold    failures within the window that ban the address
  ARGV[4] window_ms
  ARGV[5] ban_ms
  ARGV[6] limit        requests allowed in any rolling period
  ARGV[7] period_ms
  Returns: {0, remaining, reset_ms}  admitted
           {1, retry_ms}             the address is banned
           {2, banned_now}           no or wrong key; banned_now is 1 when this failure banned it
           {3, retry_ms, reset_ms}   the rate limit is spent; nothing was recorded
  Errors:  none ]]
--- @include "now_ms"
local ban, failures, keys, rate = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local digest, env_key = ARGV[1], ARGV[2]
local threshold, window_ms, ban_ms = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local limit, period_ms = tonumber(ARGV[6]), tonumber(ARGV[7])

local ban_left = redis.call("PTTL", ban)
if ban_left > 0 then
  return {1, ban_left}
end

local now = now_ms()
if env_key ~= "1" and (digest == "" or redis.call("HEXISTS", keys, digest) == 0) then
  redis.call("LPUSH", failures, now)
  redis.call("LTRIM", failures, 0, threshold - 1)
  redis.call("PEXPIRE", failures, window_ms)
  local oldest = tonumber(redis.call("LINDEX", failures, -1))
  if redis.call("LLEN", failures) >= threshold and oldest > now - window_ms then
    redis.call("SET", ban, "1", "PX", ban_ms)
    redis.call("DEL", failures)
    return {2, 1}
  end
  return {2, 0}
end

-- sliding log: an entry counts until exactly period_ms after it, so any rolling period holds at most `limit`
local oldest = tonumber(redis.call("LINDEX", rate, -1))
while oldest and oldest <= now - period_ms do
  redis.call("RPOP", rate)
  oldest = tonumber(redis.call("LINDEX", rate, -1))
end
local used = redis.call("LPUSH", rate, now)  -- optimistic: one call instead of LLEN then LPUSH
if used > limit then
  redis.call("LPOP", rate)
  return {3, oldest + period_ms - now, oldest + period_ms - now}
end
redis.call("PEXPIRE", rate, period_ms)
return {0, limit - used, (oldest or now) + period_ms - now}
