--[[ lines_type_save: create or rename a service type (admin). Codes are unique per queue.
  Logged as TYPE_CREATE or TYPE_UPDATE (meta: id, name, code) and pushed to live streams,
  which show the type's current name and code.
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] types   hash    service type id -> msgpack {name, code}
  KEYS[3] events  stream  the line's event log
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] service type id
  ARGV[3] "create" | "update"
  ARGV[4] name, or "" to keep (update)
  ARGV[5] code, or "" to keep (update)
  ARGV[6] most service types a queue may have
  ARGV[7] event stream maxlen
  ARGV[8] pub/sub channel of the line
  Returns: {id, name, code}
  Errors:  FORBIDDEN, NOTFOUND (update of an unknown id), CONFLICT (code taken), FULL (too many) ]]
--- @include "lines_admin"
--- @include "lines_emit"
local cfg, types = KEYS[1], KEYS[2]
local id, mode = ARGV[2], ARGV[3]
local err = admin_error(cfg, ARGV[1])
if err then return redis.error_reply(err) end
local name, code = ARGV[4], ARGV[5]
local current = redis.call("HGET", types, id)
if mode == "create" then
  if current then return redis.error_reply("CONFLICT service type id exists") end
  if redis.call("HLEN", types) >= tonumber(ARGV[6]) then
    return redis.error_reply("FULL a queue has at most " .. ARGV[6] .. " service types")
  end
else
  if not current then return redis.error_reply("NOTFOUND service type not found") end
  local old = cmsgpack.unpack(current)
  if name == "" then name = old[1] end
  if code == "" then code = old[2] end
end
local all = redis.call("HGETALL", types)
for i = 1, #all, 2 do
  if all[i] ~= id and string.upper(cmsgpack.unpack(all[i + 1])[2]) == string.upper(code) then
    return redis.error_reply("CONFLICT service type code " .. code .. " is taken")
  end
end
redis.call("HSET", types, id, cmsgpack.pack({name, code}))
emit(KEYS[3], ARGV[7], ARGV[8], mode == "create" and "TYPE_CREATE" or "TYPE_UPDATE", "",
  {id = id, name = name, code = code})
return {id, name, code}
