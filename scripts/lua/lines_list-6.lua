--[[ lines_list: a page of the waiting line in serving order, with what "now serving" shows.
  KEYS[1] wait   zset   user id -> join sequence
  KEYS[2] ent    hash   user id -> msgpack {name, joined_ms, service_type_id, leave-token digest, ticket}
  KEYS[3] stats  hash   ravg, cur (msgpack {user id, name, service_type_id, served_ms, ticket}), n
  KEYS[4] cfg    hash   the queue's config
  KEYS[5] types  hash   service type id -> msgpack {name, code}
  KEYS[6] ctr    hash   counter id -> msgpack counter record (lines_counter; at most 50)
  ARGV[1] offset (>= 0)
  ARGV[2] limit (> 0)
  ARGV[3] default minutes per service
  Returns: {waiting count, minutes per service, now serving|nil, {id, packed entry, ...}, {type id, packed type, ...},
            {counter id, packed counter, ...}, open counters}
  Errors:  none ]]
--- @include "lines_minutes"
local wait, ent, stats, cfg, types, ctr = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call("ZRANGE", wait, offset, offset + limit - 1)
local page = {}
if #ids > 0 then
  local entries = redis.call("HMGET", ent, unpack(ids))
  for i, id in ipairs(ids) do
    page[#page + 1] = id
    page[#page + 1] = entries[i]
  end
end
return {redis.call("ZCARD", wait), service_minutes(stats, cfg, ARGV[3]),
        redis.call("HGET", stats, "cur") or false, page, redis.call("HGETALL", types), redis.call("HGETALL", ctr),
        tonumber(redis.call("HGET", stats, "open") or "0")}
