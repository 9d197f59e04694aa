--[[ lines_join: put a person at the end of the line.
  KEYS[1] cfg      hash   the queue's config (absent: global defaults, public)
  KEYS[2] seq      string join counter: FIFO order comes from the server, never client clocks
  KEYS[3] wait     zset   user id -> join sequence
  KEYS[4] ent      hash   user id -> msgpack {name, joined_ms, service_type_id or "", leave-token digest, ticket}
  KEYS[5] types    hash   service type id -> msgpack {name, code}
  KEYS[6] stats    hash   ravg (rolling minutes per service), cur (now serving), n (served count),
                          tday, tnum (the ticket sequence: lines_ticket)
  KEYS[7] events   stream the line's event log
  KEYS[8] wt       zset   the type index (lines_counter): typed joins are added
  KEYS[9] nf       set    who had their NEAR_FRONT event (lines_near)
  ARGV[1] user id (a fresh UUID)
  ARGV[2] name
  ARGV[3] service type id, or ""
  ARGV[4] SHA-256 hex of the X-Admin-Key header, or "" (checked only when the queue is not public)
  ARGV[5] default minutes per service (AVG_SERVICE_TIME_MINUTES)
  ARGV[6] event stream maxlen
  ARGV[7] pub/sub channel of the line
  ARGV[8] digest of the entry's leave token (SHA-256, first 128 bits, hex; the token itself is never stored)
  ARGV[9] the leave token itself, or "": only a call with an Idempotency-Key sends it, so that
          its stored reply can show the token to a retry
  ARGV[10] the time zone the caller computed ARGV[11..16] and ARGV[18..] in
  ARGV[11] ARGV[12] label (YYYY-MM-DD) and start ms of yesterday in that zone (lines_ticket)
  ARGV[13] ARGV[14] the same for today
  ARGV[15] ARGV[16] the same for tomorrow
  ARGV[17] the opening hours (cfg oh, canonical JSON) the caller assumed, "" for none
  ARGV[18..] start ms, end ms, ... of the open intervals around now by those hours (microq/lines/hours.py)
  Returns: {joined_ms, position, minutes per service (string), type name|nil, type code|nil,
            user id, ARGV[9], ticket, open counters}
  Errors:  FORBIDDEN (private queue without a valid key), INVALID (unknown service type),
           CONFLICT (the user id exists; the line is paused, closed by its hours, or full),
           STALE when ARGV[10] or ARGV[17] is not the line's zone or hours (nothing applied:
           the caller reads them again and retries) ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_minutes"
--- @include "lines_ticket"
--- @include "lines_counter"
--- @include "lines_near"
local cfg, seq, wait, ent, types, stats, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local uid, name, type_id, digest = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if redis.call("HGET", cfg, "p") == "0" then
  local err = admin_error(cfg, digest)
  if err then return redis.error_reply(err .. " (this queue is not public)") end
end
local type_name, type_code = false, false
if type_id ~= "" then
  local packed = redis.call("HGET", types, type_id)
  if not packed then return redis.error_reply("INVALID unknown service_type_id") end
  local t = cmsgpack.unpack(packed)
  type_name, type_code = t[1], t[2]
end
if redis.call("HEXISTS", ent, uid) == 1 then
  return redis.error_reply("CONFLICT user id already in the line")
end
if queue_zone(cfg) ~= ARGV[10] or (redis.call("HGET", cfg, "oh") or "") ~= ARGV[17] then
  return redis.error_reply("STALE the line's time zone or hours changed")
end
local now = now_ms()
if redis.call("HGET", cfg, "pz") == "1" then
  local why = redis.call("HGET", cfg, "pm") or ""
  return redis.error_reply("CONFLICT this line is paused" .. (why ~= "" and (": " .. why) or ""))
end
if ARGV[17] ~= "" then
  local open = false
  for i = 18, #ARGV - 1, 2 do
    if tonumber(ARGV[i]) <= now and now < tonumber(ARGV[i + 1]) then open = true end
  end
  if not open then return redis.error_reply("CONFLICT this line is closed now (outside its opening hours)") end
end
local most = tonumber(redis.call("HGET", cfg, "mx") or "0")
if most > 0 and redis.call("ZCARD", wait) >= most then
  return redis.error_reply("CONFLICT this line is full (" .. most .. " waiting): try again later")
end
local ticket = next_ticket(stats, type_code or redis.call("HGET", cfg, "tp") or "A", now,
  {ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16]})
local position_seq = redis.call("INCR", seq)
redis.call("ZADD", wait, position_seq, uid)
if type_id ~= "" then redis.call("ZADD", KEYS[8], 0, type_member(type_id, position_seq, uid)) end
redis.call("HSET", ent, uid, cmsgpack.pack({name, now, type_id, ARGV[8], ticket}))
emit(events, ARGV[6], ARGV[7], "JOIN", uid, {name = name, ticket = ticket})
near_front(cfg, wait, ent, KEYS[9], events, ARGV[6], ARGV[7])
return {now, redis.call("ZRANK", wait, uid) + 1, service_minutes(stats, cfg, ARGV[5]), type_name, type_code,
        uid, ARGV[9], ticket, tonumber(redis.call("HGET", stats, "open") or "0")}
