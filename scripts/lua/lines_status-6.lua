--[[ lines_status: one person's entry and live position; O(log n) (ZRANK).
  KEYS[1] wait   zset   user id -> join sequence
  KEYS[2] ent    hash   user id -> msgpack {name, joined_ms, service_type_id, leave-token digest, ticket}
  KEYS[3] done   hash   user id -> msgpack {name, joined_ms, service_type_id, status, finished_ms, ticket}
  KEYS[4] stats  hash   ravg, cur, n, open (open counters)
  KEYS[5] cfg    hash   the queue's config
  KEYS[6] types  hash   service type id -> msgpack {name, code}
  ARGV[1] user id
  ARGV[2] default minutes per service
  Returns: {position (0 when no longer waiting), packed entry, minutes per service, type name|nil, type code|nil,
            open counters (stats "open", 0 when none)}
  Errors:  NOTFOUND ]]
--- @include "lines_minutes"
local wait, ent, done, stats, cfg, types = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local uid = ARGV[1]
local position, packed = 0, nil
local rank = redis.call("ZRANK", wait, uid)
if rank then
  position, packed = rank + 1, redis.call("HGET", ent, uid)
else
  packed = redis.call("HGET", done, uid)
end
if not packed then return redis.error_reply("NOTFOUND no such user in this queue") end
local type_name, type_code = false, false
local type_id = cmsgpack.unpack(packed)[3]
if type_id ~= "" then
  local t = redis.call("HGET", types, type_id)
  if t then type_name, type_code = unpack(cmsgpack.unpack(t)) end
end
return {position, packed, service_minutes(stats, cfg, ARGV[2]), type_name, type_code,
        tonumber(redis.call("HGET", stats, "open") or "0")}
