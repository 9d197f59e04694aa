--[[ lines_finish: end a wait without service: the person leaves, or an admin removes them or
  marks a no-show (a waiting or an already served person who did not come to the counter).
  KEYS[1] cfg     hash   the queue's config (holds the admin-key hash)
  KEYS[2] wait    zset   user id -> join sequence
  KEYS[3] ent     hash   user id -> msgpack {name, joined_ms, service_type_id, leave-token digest, ticket}
  KEYS[4] done    hash   user id -> msgpack {name, joined_ms, service_type_id, status, finished_ms, ticket, counter id, counter name}
  KEYS[5] donex   zset   user id -> finished_ms
  KEYS[6] events  stream the line's event log
  KEYS[7] types   hash   service type id -> msgpack {name, code}
  KEYS[8] stats   hash   ravg, cur (now serving: cleared when that person is marked a no-show), n
  KEYS[9] wt      zset   the type index (lines_counter)
  KEYS[10] ctr    hash   counters (lines_counter): one serving a no-show serves nobody now
  KEYS[11] nf     set    who had their NEAR_FRONT event (lines_near)
  KEYS[12..14] an hash   the per-day analytics of yesterday, today and tomorrow (lines_analytics)
  ARGV[1] user id
  ARGV[2] new status: left | removed | no_show (the last two need the admin key)
  ARGV[3] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[4] event stream maxlen
  ARGV[5] pub/sub channel of the line
  ARGV[6] how long finished entries stay answerable, ms
  ARGV[7] digest of the presented leave token (as lines_join ARGV[8]), or "" (checked for left only)
  ARGV[8] the time zone the caller computed ARGV[9..] in (STALE when it is not the line's)
  ARGV[9..14] label and start ms of yesterday, today, tomorrow in that zone (lines_analytics)
  ARGV[15] the zone's UTC offset ms at now
  ARGV[16] how long a day's analytics are kept, ms
  Returns: {packed finished entry, type name|nil, type code|nil}
  Errors:  FORBIDDEN (admin key; or, for left, the leave token), NOTFOUND, CONFLICT (already
           finished), INVALID (unknown status), STALE ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_archive"
--- @include "lines_counter"
--- @include "lines_near"
--- @include "lines_ticket"
--- @include "lines_analytics"
local cfg, wait, ent, done, donex, events, types, stats =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local uid, status = ARGV[1], ARGV[2]
local kinds = {left = "LEAVE", removed = "REMOVE", no_show = "NO_SHOW"}
local kind = kinds[status]
if not kind then return redis.error_reply("INVALID unknown status") end
if status ~= "left" then
  local err = admin_error(cfg, ARGV[3])
  if err then return redis.error_reply(err) end
end
if queue_zone(cfg) ~= ARGV[8] then return redis.error_reply("STALE the line's time zone changed") end
local now, entry, served_entry = now_ms(), nil, nil
local waiting = redis.call("HGET", ent, uid)
if waiting then
  entry = cmsgpack.unpack(waiting)
  -- leaving needs the entry's token; an entry joined before tokens existed has none (entry[4]
  -- nil) and still leaves by its id. Digests of random tokens: `==` leaks nothing.
  if status == "left" and entry[4] and entry[4] ~= "" then
    if ARGV[7] == "" then return redis.error_reply("FORBIDDEN missing leave token (X-Leave-Token)") end
    if ARGV[7] ~= entry[4] then return redis.error_reply("FORBIDDEN invalid leave token") end
  end
  unindex(KEYS[9], entry[3], redis.call("ZSCORE", wait, uid), uid)
  redis.call("ZREM", wait, uid)
  redis.call("HDEL", ent, uid)
else
  local finished = redis.call("HGET", done, uid)
  if not finished then return redis.error_reply("NOTFOUND no such user in this queue") end
  entry = cmsgpack.unpack(finished)
  served_entry = entry
  if not (status == "no_show" and entry[4] == "served") then
    return redis.error_reply("CONFLICT this person is no longer waiting (" .. entry[4] .. ")")
  end
  -- a no-show is not being served: kiosks and the admin panel stop showing them as now serving
  local current = redis.call("HGET", stats, "cur")
  if current and cmsgpack.unpack(current)[1] == uid then redis.call("HDEL", stats, "cur") end
  clear_serving(KEYS[10], uid)
  entry = {entry[1], entry[2], entry[3], "", entry[6]}  -- the waiting shape archive takes
end
local packed = archive(done, donex, uid, entry, status, now, tonumber(ARGV[6]), nil, nil,
  served_entry and served_entry[5], served_entry and served_entry[7])
emit(events, ARGV[4], ARGV[5], kind, uid, {name = entry[1], ticket = entry[5]})
analytics_finished(analytics_day({KEYS[12], KEYS[13], KEYS[14]}, ARGV, 9, now), stats, status, uid, entry[3],
  served_entry)
redis.call("SREM", KEYS[11], uid)
near_front(cfg, wait, ent, KEYS[11], events, ARGV[4], ARGV[5])
local type_name, type_code = false, false
if entry[3] ~= "" then
  local t = redis.call("HGET", types, entry[3])
  if t then type_name, type_code = unpack(cmsgpack.unpack(t)) end
end
return {packed, type_name, type_code}
