--[[ lines_type_delete: delete a service type (admin). People already waiting keep its id; their
  entries then show no type name or code. Logged as TYPE_DELETE (meta: id, name, code) and
  pushed to live streams.
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] types   hash    service type id -> msgpack {name, code}
  KEYS[3] events  stream  the line's event log
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] service type id
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  Returns: 1
  Errors:  FORBIDDEN, NOTFOUND ]]
--- @include "lines_admin"
--- @include "lines_emit"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
local packed = redis.call("HGET", KEYS[2], ARGV[2])
if not packed then return redis.error_reply("NOTFOUND service type not found") end
redis.call("HDEL", KEYS[2], ARGV[2])
local t = cmsgpack.unpack(packed)
emit(KEYS[3], ARGV[3], ARGV[4], "TYPE_DELETE", "", {id = ARGV[2], name = t[1], code = t[2]})
return 1
