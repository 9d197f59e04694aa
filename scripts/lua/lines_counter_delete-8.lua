--[[ lines_counter_delete: delete a counter (admin). Logged as COUNTER_DELETE (meta: id, name)
  and pushed to live streams.
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] ctr     hash    counter id -> msgpack counter record (lines_counter)
  KEYS[3] stats   hash    open: how many counters are open
  KEYS[4] events  stream  the line's event log
  KEYS[5] done    hash    finished entries: a service that ends is kept in its person's (lines_archive)
  KEYS[6..8] an hash   the per-day analytics of yesterday, today and tomorrow (lines_analytics):
                          closing or deleting a counter ends its open service
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] counter id
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  ARGV[5] the time zone the caller computed ARGV[6..] in (STALE when it is not the line's)
  ARGV[6..11] label and start ms of yesterday, today, tomorrow in that zone (lines_analytics)
  ARGV[12] the zone's UTC offset ms at now
  ARGV[13] how long a day's analytics are kept, ms
  Returns: 1
  Errors:  FORBIDDEN, NOTFOUND, STALE ]]
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_counter"
--- @include "now_ms"
--- @include "lines_ticket"
--- @include "lines_analytics"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
if queue_zone(KEYS[1]) ~= ARGV[5] then return redis.error_reply("STALE the line's time zone changed") end
local packed = redis.call("HGET", KEYS[2], ARGV[2])
if not packed then return redis.error_reply("NOTFOUND no such counter") end
redis.call("HDEL", KEYS[2], ARGV[2])
local now = now_ms()
analytics_service_end(analytics_day({KEYS[6], KEYS[7], KEYS[8]}, ARGV, 6, now), KEYS[3], KEYS[5], ARGV[2], now)
count_open(KEYS[2], KEYS[3])
emit(KEYS[4], ARGV[3], ARGV[4], "COUNTER_DELETE", "", {id = ARGV[2], name = cmsgpack.unpack(packed)[1]})
return 1
