--[[ lines_counter_save: create or change a counter (admin): its name, open or closed, and the
  service types it serves. Closing a counter ends its "now serving". Logged as COUNTER_CREATE
  or COUNTER_UPDATE (meta: id, name, open, service_type_ids when some) and pushed to live
  streams (kiosks show the counters; ETAs divide by the open ones).
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] ctr     hash    counter id -> msgpack counter record (lines_counter)
  KEYS[3] types   hash    service type id -> msgpack {name, code}
  KEYS[4] stats   hash    open: how many counters are open
  KEYS[5] events  stream  the line's event log
  KEYS[6] done    hash    finished entries: a service that ends is kept in its person's (lines_archive)
  KEYS[7..9] an hash   the per-day analytics of yesterday, today and tomorrow (lines_analytics):
                          closing or deleting a counter ends its open service
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] counter id
  ARGV[3] "create" | "update"
  ARGV[4] name, or "" to keep (update)
  ARGV[5] open "1" | "0", or "" to keep (update; create: open)
  ARGV[6] JSON array of the service type ids it serves ([] = every type and none), or "" to keep
  ARGV[7] most counters a queue may have
  ARGV[8] event stream maxlen
  ARGV[9] pub/sub channel of the line
  ARGV[10] the time zone the caller computed ARGV[11..] in (STALE when it is not the line's)
  ARGV[11..16] label and start ms of yesterday, today, tomorrow in that zone (lines_analytics)
  ARGV[17] the zone's UTC offset ms at now
  ARGV[18] how long a day's analytics are kept, ms
  Returns: the packed counter record
  Errors:  FORBIDDEN, NOTFOUND (update of an unknown id), CONFLICT (create of an existing id),
           FULL (too many), INVALID (an unknown service type id), STALE ]]
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_counter"
--- @include "now_ms"
--- @include "lines_ticket"
--- @include "lines_analytics"
local cfg, ctr, types, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, mode = ARGV[2], ARGV[3]
local err = admin_error(cfg, ARGV[1])
if err then return redis.error_reply(err) end
if queue_zone(KEYS[1]) ~= ARGV[10] then return redis.error_reply("STALE the line's time zone changed") end
local current = redis.call("HGET", ctr, id)
local record
if mode == "create" then
  if current then return redis.error_reply("CONFLICT counter " .. id .. " exists") end
  if redis.call("HLEN", ctr) >= tonumber(ARGV[7]) then
    return redis.error_reply("FULL a queue has at most " .. ARGV[7] .. " counters")
  end
  record = {ARGV[4], 1, {}, false}
else
  if not current then return redis.error_reply("NOTFOUND no such counter") end
  record = cmsgpack.unpack(current)
  if ARGV[4] ~= "" then record[1] = ARGV[4] end
end
if ARGV[5] ~= "" then record[2] = tonumber(ARGV[5]) end
if ARGV[6] ~= "" then
  local ids = cjson.decode(ARGV[6])
  for _, type_id in ipairs(ids) do
    if redis.call("HEXISTS", types, type_id) == 0 then
      return redis.error_reply("INVALID unknown service type id " .. type_id)
    end
  end
  record[3] = ids
end
if record[2] ~= 1 then
  record[4] = false
  local now = now_ms()
  analytics_service_end(analytics_day({KEYS[7], KEYS[8], KEYS[9]}, ARGV, 11, now), stats, KEYS[6], id, now)
end
local packed = cmsgpack.pack(record)
redis.call("HSET", ctr, id, packed)
count_open(ctr, stats)
local meta = {id = id, name = record[1], open = record[2] == 1}
if #record[3] > 0 then meta.service_type_ids = record[3] end
emit(KEYS[5], ARGV[8], ARGV[9], mode == "create" and "COUNTER_CREATE" or "COUNTER_UPDATE", "", meta)
return packed
