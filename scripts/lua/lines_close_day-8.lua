--[[ lines_close_day: end the day (admin): the people still waiting, from the front, finish with
  status "closed" and an event CLOSE each (meta: name, ticket), at most ARGV[2] per call (the
  caller repeats while some remain), so no call does unbounded work.
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
  Returns: {closed in this call, still waiting}
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
local batch = redis.call("ZRANGE", wait, 0, tonumber(ARGV[2]) - 1, "WITHSCORES")
for i = 1, #batch, 2 do
  local uid, seq = batch[i], batch[i + 1]
  local entry = cmsgpack.unpack(redis.call("HGET", ent, uid))
  unindex(wt, entry[3], seq, uid)
  redis.call("ZREM", wait, uid)
  redis.call("HDEL", ent, uid)
  redis.call("SREM", nf, uid)
  archive(done, donex, uid, entry, "closed", now, tonumber(ARGV[5]))
  redis.call("XADD", events, "MAXLEN", ARGV[3], "*", "type", "CLOSE", "user_id", uid,
    "meta", cjson.encode({name = entry[1], ticket = entry[5]}))
end
if #batch > 0 then redis.call("PUBLISH", ARGV[4], "CLOSE ") end
return {#batch / 2, redis.call("ZCARD", wait)}
