--[[ security_admit: the whole admission decision for `count` work API requests that share one
  client address, API key and endpoint, in one step: exactly what `count` calls one after the
  other would decide. Per request: ban check, key check (recording the failure, and banning on
  the threshold), rate limit.
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
  ARGV[8] count        how many requests to decide, 1..1000
  Returns: a flat list of `count` triples, in order, one per request:
           {0, remaining, reset_ms}  admitted
           {1, retry_ms, 0}          the address is banned
           {2, banned_now, 0}        no or wrong key; banned_now is 1 when this failure banned it
           {3, retry_ms, reset_ms}   the rate limit is spent; nothing was recorded
  Errors:  none ]]
--- @include "now_ms"
local ban, failures, keys, rate = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local digest, env_key = ARGV[1], ARGV[2]
local threshold, window_ms, ban_ms = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local limit, period_ms, count = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local out = {}

local ban_left = redis.call("PTTL", ban)
if ban_left > 0 then
  for i = 1, count do out[#out + 1] = 1; out[#out + 1] = ban_left; out[#out + 1] = 0 end
  return out
end

local now = now_ms()
if env_key ~= "1" and (digest == "" or redis.call("HEXISTS", keys, digest) == 0) then
  local banned = false
  for i = 1, count do
    if banned then  -- a request after the one that banned the address, as a later call would see it
      out[#out + 1] = 1; out[#out + 1] = ban_ms; out[#out + 1] = 0
    else
      redis.call("LPUSH", failures, now)
      redis.call("LTRIM", failures, 0, threshold - 1)
      redis.call("PEXPIRE", failures, window_ms)
      local oldest = tonumber(redis.call("LINDEX", failures, -1))
      if redis.call("LLEN", failures) >= threshold and oldest > now - window_ms then
        redis.call("SET", ban, "1", "PX", ban_ms)
        redis.call("DEL", failures)
        banned = true
      end
      out[#out + 1] = 2; out[#out + 1] = banned and 1 or 0; out[#out + 1] = 0
    end
  end
  return out
end

-- sliding log: an entry counts until exactly period_ms after it, so any rolling period holds at most `limit`
local oldest = tonumber(redis.call("LINDEX", rate, -1))
while oldest and oldest <= now - period_ms do
  redis.call("RPOP", rate)
  oldest = tonumber(redis.call("LINDEX", rate, -1))
end
local stamps = {}
for i = 1, count do stamps[i] = now end
-- optimistic: push every request in one call, then take back those beyond the limit
local used = redis.call("LPUSH", rate, unpack(stamps))
local before = used - count
local admitted = math.min(count, math.max(0, limit - before))
if admitted < count then
  redis.call("LPOP", rate, count - admitted)
end
if admitted > 0 then
  redis.call("PEXPIRE", rate, period_ms)
end
local reset = (oldest or now) + period_ms - now
for i = 1, admitted do
  out[#out + 1] = 0; out[#out + 1] = limit - (before + i); out[#out + 1] = reset
end
for i = admitted + 1, count do
  out[#out + 1] = 3; out[#out + 1] = reset; out[#out + 1] = reset
end
return out
