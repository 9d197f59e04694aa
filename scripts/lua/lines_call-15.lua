--[[ lines_call: serve one waiting person out of order (an admin calls them by name), at a
  counter or none.
  KEYS[1..12] as lines_serve_next: cfg, wait, ent, done, donex, stats, durations, events, types, wt, ctr, nf
  KEYS[13..15] an  hash   the per-day analytics of yesterday, today and tomorrow (lines_analytics)
  ARGV[1] user id
  ARGV[2] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  ARGV[5] how long finished entries stay answerable, ms
  ARGV[6] counter id, or "" for none
  ARGV[7] the time zone the caller computed ARGV[8..] in (STALE when it is not the line's)
  ARGV[8..13] label and start ms of yesterday, today, tomorrow in that zone (lines_analytics)
  ARGV[14] the zone's UTC offset ms at now
  ARGV[15] how long a day's analytics are kept, ms
  Returns: {packed finished entry, type name|nil, type code|nil}
  Errors:  FORBIDDEN, NOTFOUND (unknown user or counter), CONFLICT (no longer waiting; the
           counter is closed or does not serve this person's type), STALE ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_archive"
--- @include "lines_counter"
--- @include "lines_serve"
--- @include "lines_near"
--- @include "lines_ticket"
--- @include "lines_analytics"
local uid = ARGV[1]
local err = admin_error(KEYS[1], ARGV[2])
if err then return redis.error_reply(err) end
local counter, refused = open_counter(KEYS[11], ARGV[6])
if refused then return refused end
if queue_zone(KEYS[1]) ~= ARGV[7] then return redis.error_reply("STALE the line's time zone changed") end
if not redis.call("ZSCORE", KEYS[2], uid) then
  local finished = redis.call("HGET", KEYS[4], uid)
  if finished then
    return redis.error_reply("CONFLICT this person is no longer waiting (" .. cmsgpack.unpack(finished)[4] .. ")")
  end
  return redis.error_reply("NOTFOUND no such user in this queue")
end
if counter and not counter_serves(counter, cmsgpack.unpack(redis.call("HGET", KEYS[3], uid))[3]) then
  return redis.error_reply("CONFLICT counter " .. counter[1] .. " does not serve this person's service type")
end
local now = now_ms()
local packed = serve({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[10], KEYS[11]},
  uid, now, "CALL", ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], counter)
redis.call("SREM", KEYS[12], uid)
near_front(KEYS[1], KEYS[2], KEYS[3], KEYS[12], KEYS[8], ARGV[3], ARGV[4])
local type_name, type_code = type_of(packed, KEYS[9])
analytics_served(analytics_day({KEYS[13], KEYS[14], KEYS[15]}, ARGV, 8, now), KEYS[6], KEYS[4], uid, packed, type_name, now)
return {packed, type_name, type_code}
