-- service_minutes(stats, cfg, default): minutes per service, as a string (a Lua number would be
-- truncated to an integer in the reply): the rolling average once 3 are served, else the
-- queue's configured value, else AVG_SERVICE_TIME_MINUTES.
local function service_minutes(stats, cfg, default)
  return redis.call("HGET", stats, "ravg") or redis.call("HGET", cfg, "a") or default
end
