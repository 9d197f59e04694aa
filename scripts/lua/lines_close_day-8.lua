--[[ lines_close_day: end the day (admin): the people still waiting, from the front, finish with
  status "closed" and an event CLOSE each (meta: name, ticket), at most ARGV[2] per call (the
  caller repeats while some remain), so no call does unbounded work. The sweep's automatic
  close (config ca) sends the local days whose close is due: the script closes the latest due
  day not closed yet (cfg cd, the day marker: once per day whichever nodes sweep), only the
  people who joined before that day's close, and when none of those remain sets cd and logs
  DAY_CLOSED (meta: date).
  KEYS[1] cfg     hash   the queue's config (holds the admin-key hash)
  KEYS[2] wait    zset   user id -> join sequence
  KEYS[3] ent     hash   user id -> msgpack {name, joined_ms, service_type_id, leave-token digest, ticket}
  KEYS[4] done    hash   user id -> msgpack {name, joined_ms, service_type_id, status, finished_ms, ticket,
                         counter id, counter name}
  KEYS[5] donex   zset   user id -> finished_ms
  KEYS[6] events  stream the line's event log
  KEYS[7] wt      zset   the type index (lines_counter)
  KEYS[8] nf      set    who had their NEAR_FRONT event (lines_near)
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] most people to close in this call
  ARGV[3] event stream maxlen
  ARGV[4] pub/sub channel of the line
  ARGV[5] how long finished entries stay answerable, ms
  ARGV[6..9] automatic close: label (YYYY-MM-DD) and close ms of yesterday, then of today ("" for
          none); absent for the admin's close-day
  Returns: {closed in this call, still waiting, the day marked closed by this call or ""}
  Errors:  FORBIDDEN ]]
--- @include "now_ms"
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_archive"
--- @include "lines_counter"
local cfg, wait, ent, done, donex, events, wt, nf = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local err = admin_error(cfg, ARGV[1])
if err then return redis.error_reply(err) end
local now = now_ms()
local day, cutoff = nil, nil
if #ARGV >= 9 then
  local marked = redis.call("HGET", cfg, "cd") or ""
  for i = 6, 8, 2 do
    if ARGV[i] ~= "" and tonumber(ARGV[i + 1]) <= now and ARGV[i] > marked then day, cutoff = ARGV[i], tonumber(ARGV[i + 1]) end
  end
  if not day then return {0, redis.call("ZCARD", wait), ""} end
end
local batch = redis.call("ZRANGE", wait, 0, tonumber(ARGV[2]) - 1, "WITHSCORES")
local closed = 0
for i = 1, #batch, 2 do
  local uid, seq = batch[i], batch[i + 1]
  local entry = cmsgpack.unpack(redis.call("HGET", ent, uid))
  if cutoff and entry[2] >= cutoff then break end  -- joined after the day's close: tomorrow's
  closed = closed + 1
  unindex(wt, entry[3], seq, uid)
  redis.call("ZREM", wait, uid)
  redis.call("HDEL", ent, uid)
  redis.call("SREM", nf, uid)
  archive(done, donex, uid, entry, "closed", now, tonumber(ARGV[5]))
  redis.call("XADD", events, "MAXLEN", ARGV[3], "*", "type", "CLOSE", "user_id", uid,
    "meta", cjson.encode({name = entry[1], ticket = entry[5]}))
end
local marked = ""
if day and closed < tonumber(ARGV[2]) then
  redis.call("HSET", cfg, "cd", day)
  redis.call("XADD", events, "MAXLEN", ARGV[3], "*", "type", "DAY_CLOSED", "user_id", "", "meta", cjson.encode({date = day}))
  marked = day
end
if closed > 0 or marked ~= "" then redis.call("PUBLISH", ARGV[4], "CLOSE ") end
return {closed, redis.call("ZCARD", wait), marked}
