--[[ lines_create: create a queue's config; an existing config is kept as it is (idempotent).
  KEYS[1] cfg  hash  n (name), p (public "1"|"0"), a (minutes per service), c (created ms),
                     k (SHA-256 hex of the admin key; never returned), tp (ticket prefix of
                     joins without a service type), tz (IANA time zone of the ticket day),
                     sn (public screens show names: "1"|"0"); absent in older queues: A, UTC, 0
  ARGV[1] name
  ARGV[2] public: "1" | "0"
  ARGV[3] minutes per service
  ARGV[4] SHA-256 hex of the new admin key (used only when the queue is created)
  ARGV[5] the new admin key itself, returned when the queue is created, or "": only a call with
          an Idempotency-Key sends it, so that its stored reply can show the key to a retry
  ARGV[6] ticket prefix
  ARGV[7] time zone
  ARGV[8] show names "1"|"0"
  Returns: {1 when created now | 0 when it existed, name, public, minutes, created ms,
            ARGV[5] when created now else "", tp, tz, sn, oh, mx, pz, pm, nf (lines_configure)}
  Errors:  none ]]
--- @include "now_ms"
local cfg = KEYS[1]
local created = 0
if redis.call("EXISTS", cfg) == 0 then
  redis.call("HSET", cfg, "n", ARGV[1], "p", ARGV[2], "a", ARGV[3], "c", now_ms(), "k", ARGV[4],
    "tp", ARGV[6], "tz", ARGV[7], "sn", ARGV[8])
  created = 1
end
local c = redis.call("HMGET", cfg, "n", "p", "a", "c", "tp", "tz", "sn", "oh", "mx", "pz", "pm", "nf")
return {created, c[1], c[2], c[3], c[4], created == 1 and ARGV[5] or "", c[5], c[6], c[7], c[8], c[9], c[10], c[11],
        c[12]}
