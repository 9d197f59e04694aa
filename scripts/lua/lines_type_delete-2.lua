--[[ lines_type_delete: delete a service type (admin). People already waiting keep its id; their
  entries then show no type name or code.
  KEYS[1] cfg    hash  the queue's config (holds the admin-key hash)
  KEYS[2] types  hash  service type id -> msgpack {name, code}
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] service type id
  Returns: 1
  Errors:  FORBIDDEN, NOTFOUND ]]
--- @include "lines_admin"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
if redis.call("HDEL", KEYS[2], ARGV[2]) == 0 then
  return redis.error_reply("NOTFOUND service type not found")
end
return 1
