--[[ lines_configure: change a queue's config (admin), or replace its admin key.
  KEYS[1] cfg  hash  n, p, a, c, k (see lines_create)
  ARGV[1] SHA-256 hex of the current admin key (X-Admin-Key), or ""
  ARGV[2] new name, or "" to keep
  ARGV[3] new public "1"|"0", or "" to keep
  ARGV[4] new minutes per service, or "" to keep
  ARGV[5] SHA-256 hex of a new admin key, or "" to keep the key
  Returns: {name, public, minutes, created ms}
  Errors:  NOTFOUND (never created), FORBIDDEN ]]
--- @include "lines_admin"
local cfg = KEYS[1]
if redis.call("EXISTS", cfg) == 0 then return redis.error_reply("NOTFOUND queue not found") end
local err = admin_error(cfg, ARGV[1])
if err then return redis.error_reply(err) end
local fields = {"n", "p", "a", "k"}
for i, field in ipairs(fields) do
  if ARGV[i + 1] ~= "" then redis.call("HSET", cfg, field, ARGV[i + 1]) end
end
return redis.call("HMGET", cfg, "n", "p", "a", "c")
