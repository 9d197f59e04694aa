--[[ lines_serve_next: serve the person at the front of the line (FIFO by join sequence), or,
  at a counter, the first waiting person of the types that counter serves.
  KEYS[1]  cfg        hash   the queue's config (holds the admin-key hash)
  KEYS[2]  wait       zset   user id -> join sequence
  KEYS[3]  ent        hash   user id -> msgpack {name, joined_ms, service_type_id, leave-token digest, ticket}
  KEYS[4]  done       hash   user id -> msgpack {name, joined_ms, service_type_id, status, finished_ms, ticket,
                             counter id, counter name}
  KEYS[5]  donex      zset   user id -> finished_ms, to forget old finished entries
  KEYS[6]  stats      hash   ravg, cur, n, open
  KEYS[7]  durations  list   the last 20 waits in ms, newest first
  KEYS[8]  events     stream the line's event log
  KEYS[9]  types      hash   service type id -> msgpack {name, code}
  KEYS[10] wt         zset   the type index (lines_counter)
  KEYS[11] ctr        hash   counter id -> msgpack counter record (lines_counter)
  KEYS[12] nf         set    who had their NEAR_FRONT event (lines_near)
  KEYS[13..15] an  hash   the per-day analytics of yesterday, today and tomorrow (lines_analytics)
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] event stream maxlen
  ARGV[3] pub/sub channel of the line
  ARGV[4] how long finished entries stay answerable, ms
  ARGV[5] counter id, or "" for none
  ARGV[6] the time zone the caller computed ARGV[7..] in (STALE when it is not the line's)
  ARGV[7..12] label and start ms of yesterday, today, tomorrow in that zone (lines_analytics)
  ARGV[13] the zone's UTC offset ms at now
  ARGV[14] how long a day's analytics are kept, ms
  Returns: nil when nobody waits (for this counter), else {user id, packed finished entry,
           type name|nil, type code|nil}
  Errors:  FORBIDDEN, NOTFOUND (unknown counter), CONFLICT (the counter is closed), STALE ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_archive"
--- @include "lines_counter"
--- @include "lines_serve"
--- @include "lines_near"
--- @include "lines_ticket"
--- @include "lines_analytics"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
local counter, refused = open_counter(KEYS[11], ARGV[5])
if refused then return refused end
if queue_zone(KEYS[1]) ~= ARGV[6] then return redis.error_reply("STALE the line's time zone changed") end
local now = now_ms()
local day = analytics_day({KEYS[13], KEYS[14], KEYS[15]}, ARGV, 7, now)
local first
if counter and #counter[3] > 0 then
  first = first_for_types(KEYS[10], counter[3])
else
  first = redis.call("ZRANGE", KEYS[2], 0, 0)[1]
end
if not first then  -- the server is free: its service ended
  analytics_service_end(day, KEYS[6], KEYS[4], ARGV[5], now)
  return false
end
local packed = serve({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[10], KEYS[11]},
  first, now, "SERVE", ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], counter)
redis.call("SREM", KEYS[12], first)
near_front(KEYS[1], KEYS[2], KEYS[3], KEYS[12], KEYS[8], ARGV[2], ARGV[3])
local type_name, type_code = type_of(packed, KEYS[9])
analytics_served(day, KEYS[6], KEYS[4], first, packed, type_name, now)
return {first, packed, type_name, type_code}
