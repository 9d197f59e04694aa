-- banned() and fail(): `count` failed attempts of one address, banning it at the threshold, as
-- security_fail decides them (needs now_ms); the single-Redis security_gate runs the same steps.

-- `count` triples {1, retry_ms, 0} while the address is banned, else nil
local function banned(ban, count)
  local ban_left = redis.call("PTTL", ban)
  if ban_left <= 0 then return nil end
  local out = {}
  for i = 1, count do out[#out + 1] = 1; out[#out + 1] = ban_left; out[#out + 1] = 0 end
  return out
end

local function fail(ban, failures, threshold, window_ms, ban_ms, count)
  local refused = banned(ban, count)
  if refused then return refused end
  local out = {}
  local now = now_ms()
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
