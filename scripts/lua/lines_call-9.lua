--[[ lines_call: serve one waiting person out of order (an admin calls them by name).
  KEYS[1..9] as lines_serve_next: cfg, wait, ent, done, donex, stats, durations, events, types
  ARGV[1] user id
  ARGV[2] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  ARGV[5] how long finished entries stay answerable, ms
  Returns: {packed finished entry, type name|nil, type code|nil}
  Errors:  FORBIDDEN, NOTFOUND (unknown user), CONFLICT (no longer waiting) ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_archive"
--- @include "lines_serve"
local uid = ARGV[1]
local err = admin_error(KEYS[1], ARGV[2])
if err then return redis.error_reply(err) end
if not redis.call("ZSCORE", KEYS[2], uid) then
  local finished = redis.call("HGET", KEYS[4], uid)
  if finished then
    return redis.error_reply("CONFLICT this person is no longer waiting (" .. cmsgpack.unpack(finished)[4] .. ")")
  end
  return redis.error_reply("NOTFOUND no such user in this queue")
end
local packed = serve({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]},
  uid, now_ms(), "CALL", ARGV[3], ARGV[4], tonumber(ARGV[5]))
local type_name, type_code = type_of(packed, KEYS[9])
return {packed, type_name, type_code}
