--[[ lines_configure: change a queue's config (admin), pause or resume it, or replace its admin
  key. Logged as CONFIGURE (meta: the changed fields), PAUSE (meta: message), RESUME or
  ROTATE_KEY (meta: {}), and pushed to live streams, whose ETAs depend on the minutes per service.
  KEYS[1] cfg     hash    n, p, a, c, k, tp, tz, sn (see lines_create), oh (opening hours JSON,
                          absent: always open), mx (most waiting, absent: no limit), pz (paused
                          "1"|"0"), pm (the pause's message), nf (NEAR_FRONT at this
                          position or better, absent: none), et (events to the topic "1"), ca
                          (automatic close: "HH:MM" or "end"), cd (the local day last closed)
  KEYS[2] events  stream  the line's event log
  KEYS[3] hooks   hash    webhook url -> secret (lines_webhook_save)
  KEYS[4] fwc     string  the forward cursor (lines_forward)
  ARGV[1] SHA-256 hex of the current admin key (X-Admin-Key), or ""
  ARGV[2] new name, or "" to keep
  ARGV[3] new public "1"|"0", or "" to keep
  ARGV[4] new minutes per service, or "" to keep
  ARGV[5] SHA-256 hex of a new admin key, or "" to keep the key
  ARGV[6] event stream maxlen
  ARGV[7] pub/sub channel of the line
  ARGV[8] the new admin key itself, or "": only a call with an Idempotency-Key sends it, so
          that its stored reply can show the key to a retry
  ARGV[9]  new ticket prefix, or "" to keep
  ARGV[10] new time zone, or "" to keep
  ARGV[11] new show names "1"|"0", or "" to keep
  ARGV[12] new opening hours (canonical JSON), "-" to remove them (always open), "" to keep
  ARGV[13] new most waiting, "0" for no limit, "" to keep
  ARGV[14] "1" pause, "0" resume, "" neither
  ARGV[15] the pause's message (with ARGV[14] "1"), or ""
  ARGV[16] new NEAR_FRONT position (nf), "0" for none, "" to keep
  ARGV[17] events to the topic (et) "1" | "0", or "" to keep
  ARGV[18] new automatic close (ca: "HH:MM" local, "end" the end of the opening hours), "-" none, "" keep
  Returns: {name, public, minutes, created ms, ARGV[8], tp, tz, sn, oh, mx, pz, pm, nf, et, ca,
            forwarding 1|0}
  Errors:  NOTFOUND (never created), FORBIDDEN ]]
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_forward"
local cfg = KEYS[1]
if redis.call("EXISTS", cfg) == 0 then return redis.error_reply("NOTFOUND queue not found") end
local err = admin_error(cfg, ARGV[1])
if err then return redis.error_reply(err) end
local fields = {n = 2, p = 3, a = 4, k = 5, tp = 9, tz = 10, sn = 11}
for field, i in pairs(fields) do
  if ARGV[i] ~= "" then redis.call("HSET", cfg, field, ARGV[i]) end
end
if ARGV[12] == "-" then redis.call("HDEL", cfg, "oh")
elseif ARGV[12] ~= "" then redis.call("HSET", cfg, "oh", ARGV[12]) end
if ARGV[13] == "0" then redis.call("HDEL", cfg, "mx")
elseif ARGV[13] ~= "" then redis.call("HSET", cfg, "mx", ARGV[13]) end
if ARGV[16] == "0" then redis.call("HDEL", cfg, "nf")
elseif ARGV[16] ~= "" then redis.call("HSET", cfg, "nf", ARGV[16]) end
if ARGV[17] ~= "" then redis.call("HSET", cfg, "et", ARGV[17]) end
if ARGV[18] == "-" then redis.call("HDEL", cfg, "ca")
elseif ARGV[18] ~= "" then redis.call("HSET", cfg, "ca", ARGV[18]) end
local forwards = forward_follow(cfg, KEYS[3], KEYS[2], KEYS[4])
if ARGV[14] ~= "" then redis.call("HSET", cfg, "pz", ARGV[14], "pm", ARGV[14] == "1" and ARGV[15] or "") end
local meta = {}
if ARGV[2] ~= "" then meta.name = ARGV[2] end
if ARGV[3] ~= "" then meta.is_public = ARGV[3] == "1" end
if ARGV[4] ~= "" then meta.avg_service_time = tonumber(ARGV[4]) end
if ARGV[9] ~= "" then meta.ticket_prefix = ARGV[9] end
if ARGV[10] ~= "" then meta.time_zone = ARGV[10] end
if ARGV[11] ~= "" then meta.show_names = ARGV[11] == "1" end
if ARGV[12] ~= "" then meta.opening_hours = ARGV[12] ~= "-" and cjson.decode(ARGV[12]) or false end
if ARGV[13] ~= "" then meta.max_waiting = tonumber(ARGV[13]) end
if ARGV[16] ~= "" then meta.near_front = tonumber(ARGV[16]) end
if ARGV[17] ~= "" then meta.events_topic = ARGV[17] == "1" end
if ARGV[18] ~= "" then meta.close_at = ARGV[18] ~= "-" and ARGV[18] or false end
local kind = "CONFIGURE"
if ARGV[5] ~= "" then kind = "ROTATE_KEY"
elseif ARGV[14] == "1" then kind, meta = "PAUSE", {message = ARGV[15]}
elseif ARGV[14] == "0" then kind, meta = "RESUME", {} end
emit(KEYS[2], ARGV[6], ARGV[7], kind, "", meta)
local c = redis.call("HMGET", cfg, "n", "p", "a", "c", "tp", "tz", "sn", "oh", "mx", "pz", "pm", "nf", "et", "ca")
return {c[1], c[2], c[3], c[4], ARGV[8], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], forwards}
