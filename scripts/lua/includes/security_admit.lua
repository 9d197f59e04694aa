-- admit(): the key check and sliding-log rate limit of security_admit (needs now_ms); the
-- single-Redis security_gate runs the same steps after its ban read.
--
-- The log holds one entry "<ms>:<n>" per call that admitted n requests (a bulk add's places are
-- one entry), newest first; `used` holds the sum of n over the entries. An entry counts until
-- exactly period_ms after it, so any rolling period admits at most `limit`. Entries of the
-- layout before (one "<ms>" per place) count 1 each; a log without its sum is summed once.

local function log_entry(entry)
  local ms, n = string.match(entry, "^(%d+):(%d+)$")
  if ms then return tonumber(ms), tonumber(n) end
  return tonumber(entry), 1
end

-- {2} when the key is unknown (nothing recorded), else `count` triples and the stamp written;
-- with `summary`, {admitted, used before, reset_ms, stamp} instead of the triples
local function admit(key, rate, used_key, env_key, limit, period_ms, count, summary)
  if env_key ~= "1" and redis.call("EXISTS", key) == 0 then
    return {2}
  end
  local now = now_ms()
  local stored = tonumber(redis.call("GET", used_key))
  local used = stored
  if not used then
    used = 0
    for _, entry in ipairs(redis.call("LRANGE", rate, 0, -1)) do
      local _, n = log_entry(entry)
      used = used + n
    end
  end
  -- the expired entries leave from the old end, up to 100 a read
  local cutoff = now - period_ms
  local oldest = redis.call("LINDEX", rate, -1)
  oldest = oldest and log_entry(oldest)
  while oldest and oldest <= cutoff do
    local tail = redis.call("LRANGE", rate, -100, -1)
    local expired = 0
    for i = #tail, 1, -1 do
      local ms, n = log_entry(tail[i])
      if ms > cutoff then break end
      expired = expired + 1
      used = used - n
    end
    redis.call("LTRIM", rate, 0, -(expired + 1))
    oldest = redis.call("LINDEX", rate, -1)
    oldest = oldest and log_entry(oldest)
  end
  if used < 0 or not oldest then used = 0 end
  local before = used
  local admitted = math.min(count, math.max(0, limit - before))
  if admitted > 0 then
    redis.call("LPUSH", rate, string.format("%d:%d", now, admitted))
    used = used + admitted
    redis.call("PEXPIRE", rate, period_ms)
  end
  if used ~= stored then  -- unchanged (a refusal, nothing expired): its ttl already outlasts the log's
    if used > 0 then
      redis.call("SET", used_key, used, "PX", period_ms)
    else
      redis.call("DEL", used_key)
    end
  end
  local reset = (oldest or now) + period_ms - now
  if summary then
    return {admitted, before, reset, now}
  end
  local out = {}
  for i = 1, admitted do
    out[#out + 1] = 0; out[#out + 1] = limit - (before + i); out[#out + 1] = reset
  end
  for i = admitted + 1, count do
    out[#out + 1] = 3; out[#out + 1] = reset; out[#out + 1] = reset
  end
  out[#out + 1] = now
  return out
end
