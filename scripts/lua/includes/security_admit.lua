-- admit(): the key check and sliding-log rate limit of security_admit (needs now_ms); the
-- single-Redis security_gate runs the same steps after its ban read.

-- {2} when the key is unknown (nothing recorded), else `count` triples and the stamp written;
-- with `summary`, {admitted, used before, reset_ms, stamp} instead of the triples
local function admit(key, rate, env_key, limit, period_ms, count, summary)
  if env_key ~= "1" and redis.call("EXISTS", key) == 0 then
    return {2}
  end
  local now = now_ms()
  local out = {}
  -- sliding log: an entry counts until exactly period_ms after it, so any rolling period holds at
  -- most `limit`; the expired ones leave from the old end, up to 100 a read (a bulk add leaves
  -- up to 1000 stamps of one ms, which would otherwise cost a read and a pop each)
  local cutoff = now - period_ms
  local oldest = tonumber(redis.call("LINDEX", rate, -1))
  while oldest and oldest <= cutoff do
    local tail = redis.call("LRANGE", rate, -100, -1)
    local expired = 0
    for i = #tail, 1, -1 do
      if tonumber(tail[i]) > cutoff then break end
      expired = expired + 1
    end
    redis.call("LTRIM", rate, 0, -(expired + 1))
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
  if summary then
    return {admitted, before, reset, now}
  end
  for i = 1, admitted do
    out[#out + 1] = 0; out[#out + 1] = limit - (before + i); out[#out + 1] = reset
  end
  for i = admitted + 1, count do
    out[#out + 1] = 3; out[#out + 1] = reset; out[#out + 1] = reset
  end
  out[#out + 1] = now
  return out
end
