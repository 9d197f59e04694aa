--[[ lines_counter_delete: delete a counter (admin). Logged as COUNTER_DELETE (meta: id, name)
  and pushed to live streams.
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] ctr     hash    counter id -> msgpack counter record (lines_counter)
  KEYS[3] stats   hash    open: how many counters are open
  KEYS[4] events  stream  the line's event log
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] counter id
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  Returns: 1
  Errors:  FORBIDDEN, NOTFOUND ]]
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_counter"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
local packed = redis.call("HGET", KEYS[2], ARGV[2])
if not packed then return redis.error_reply("NOTFOUND no such counter") end
redis.call("HDEL", KEYS[2], ARGV[2])
count_open(KEYS[2], KEYS[3])
emit(KEYS[4], ARGV[3], ARGV[4], "COUNTER_DELETE", "", {id = ARGV[2], name = cmsgpack.unpack(packed)[1]})
return 1
