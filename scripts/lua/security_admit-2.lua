--[[ security_admit: the key check and rate limit for `count` work API requests that share one
  API key and endpoint, in one step: exactly what `count` calls one after the other would
  decide. All keys are in the API key's slot. The gate reads the address's ban beside it and,
  when the address turns out banned, takes the places back with security_refund.
  KEYS[1] key          string key id while the key (created by `microq api-key`) is valid
  KEYS[2] rate         list  ms of requests admitted for this endpoint and key, newest first
  ARGV[1] env_key      "1" when the key matched a MICROQ_API_KEYS key (checked by the node)
  ARGV[2] limit        requests allowed in any rolling period
  ARGV[3] period_ms
  ARGV[4] count        how many requests to decide, 1..1000
  Returns: {2} when the key is unknown (nothing was recorded: the failures are the address's), or
           a flat list of `count` triples, in order, one per request, then the stamp (ms) that
           the admitted ones left in the log:
           {0, remaining, reset_ms}  admitted
           {3, retry_ms, reset_ms}   the rate limit is spent; nothing was recorded
  Errors:  none ]]
--- @include "now_ms"
local key, rate = KEYS[1], KEYS[2]
local env_key = ARGV[1]
local limit, period_ms, count = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if env_key ~= "1" and redis.call("EXISTS", key) == 0 then
  return {2}
end
local now = now_ms()
local out = {}
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
out[#out + 1] = now
return out
