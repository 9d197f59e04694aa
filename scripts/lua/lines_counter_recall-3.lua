--[[ lines_counter_recall: announce the person a counter serves once more (admin): kiosks flash
  and chime again. Logged as RECALL (user_id: that person; meta: name, ticket, counter,
  counter_name) and pushed to live streams.
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] ctr     hash    counter id -> msgpack counter record (lines_counter): serving[6],
                          the time it was last called, becomes now
  KEYS[3] events  stream  the line's event log
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] counter id
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  Returns: the packed counter record
  Errors:  FORBIDDEN, NOTFOUND (unknown counter), CONFLICT (it serves nobody) ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
local packed = redis.call("HGET", KEYS[2], ARGV[2])
if not packed then return redis.error_reply("NOTFOUND no such counter") end
local record = cmsgpack.unpack(packed)
local serving = record[4]
if not serving then return redis.error_reply("CONFLICT counter " .. record[1] .. " serves nobody now") end
serving[6] = now_ms()
packed = cmsgpack.pack(record)
redis.call("HSET", KEYS[2], ARGV[2], packed)
emit(KEYS[3], ARGV[3], ARGV[4], "RECALL", serving[1],
  {name = serving[2], ticket = serving[5], counter = ARGV[2], counter_name = record[1]})
return packed
