--[[ lines_authorize: check an admin key before reads that need one (analytics, history).
  KEYS[1] cfg  hash  the queue's config (holds the admin-key hash)
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  Returns: the line's time zone name ("UTC" when never set)
  Errors:  FORBIDDEN (no such queue, no key or another key) ]]
--- @include "lines_admin"
--- @include "lines_ticket"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
return queue_zone(KEYS[1])
