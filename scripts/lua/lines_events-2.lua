--[[ lines_events: a page of the line's event log, oldest first (admin).
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] events  stream  fields type, user_id, meta (JSON); the entry id is the time in ms
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] start: "-" for the oldest, else the first id (or time in ms) to include
  ARGV[3] most events to return
  Returns: XRANGE reply {{id, {field, value, ...}}, ...}
  Errors:  FORBIDDEN ]]
--- @include "lines_admin"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
return redis.call("XRANGE", KEYS[2], ARGV[2], "+", "COUNT", tonumber(ARGV[3]))
