--[[ lines_create: create a queue's config; an existing config is kept as it is (idempotent).
  KEYS[1] cfg  hash  n (name), p (public "1"|"0"), a (minutes per service), c (created ms),
                     k (SHA-256 hex of the admin key; never returned)
  ARGV[1] name
  ARGV[2] public: "1" | "0"
  ARGV[3] minutes per service
  ARGV[4] SHA-256 hex of the new admin key (used only when the queue is created)
  ARGV[5] the new admin key itself, returned when the queue is created, or "": only a call with
          an Idempotency-Key sends it, so that its stored reply can show the key to a retry
  Returns: {1 when created now | 0 when it existed, name, public, minutes, created ms,
            ARGV[5] when created now else ""}
  Errors:  none ]]
--- @include "now_ms"
local cfg = KEYS[1]
local created = 0
if redis.call("EXISTS", cfg) == 0 then
  redis.call("HSET", cfg, "n", ARGV[1], "p", ARGV[2], "a", ARGV[3], "c", now_ms(), "k", ARGV[4])
  created = 1
end
local c = redis.call("HMGET", cfg, "n", "p", "a", "c")
return {created, c[1], c[2], c[3], c[4], created == 1 and ARGV[5] or ""}
