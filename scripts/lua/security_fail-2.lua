--[[ security_fail: `count` requests from one address with no or a wrong API key, in one step:
  exactly what `count` calls one after the other would decide. Each is a failed attempt unless
  the address is banned by then; the attempt that reaches the threshold bans it. All keys are
  in the address's slot.
  KEYS[1] ban          string "1" while the address is banned (PX = ban duration)
  KEYS[2] failures     list  ms of the address's latest failed attempts, newest first (at most ARGV[1])
  ARGV[1] threshold    failures within the window that ban the address
  ARGV[2] window_ms
  ARGV[3] ban_ms
  ARGV[4] count        how many requests to decide, 1..1000
  Returns: a flat list of `count` triples, in order, one per request:
           {1, retry_ms, 0}          the address is banned
           {2, banned_now, 0}        a failed attempt; banned_now is 1 when this one banned the address
  Errors:  none ]]
--- @include "now_ms"
local ban, failures = KEYS[1], KEYS[2]
local threshold, window_ms, ban_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local out = {}
local ban_left = redis.call("PTTL", ban)
if ban_left > 0 then
  for i = 1, count do out[#out + 1] = 1; out[#out + 1] = ban_left; out[#out + 1] = 0 end
  return out
end
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
