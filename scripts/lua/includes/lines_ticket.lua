-- next_ticket(stats, prefix, now, days): the next ticket of the line, "<prefix>-<NNN>". The
-- number comes from stats fields tday (the local day it counts) and tnum (the last number),
-- and starts again at 1 when the day changes. days = flat {label, start ms, ...} oldest first
-- (microq/lines/tickets.py): the day is the last one that has started by Redis's clock.
local function next_ticket(stats, prefix, now, days)
  local day = days[1]
  for i = 1, #days, 2 do
    if tonumber(days[i + 1]) <= now then day = days[i] end
  end
  local number
  if redis.call("HGET", stats, "tday") == day then
    number = redis.call("HINCRBY", stats, "tnum", 1)
  else
    redis.call("HSET", stats, "tday", day, "tnum", 1)
    number = 1
  end
  return string.format("%s-%03d", prefix, number)
end

-- queue_zone(cfg): the line's time zone name ("UTC" when never set)
local function queue_zone(cfg)
  return redis.call("HGET", cfg, "tz") or "UTC"
end
