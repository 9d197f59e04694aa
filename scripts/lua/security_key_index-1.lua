--[[ security_key_index: list a new API key (by id) in its index bucket, before its table entry
  is written: a create cut short leaves a listed key that does not work, which revoke removes.
  KEYS[1] index        hash  key id -> msgpack {name, digest, created_ms}
  ARGV[1] id
  ARGV[2] name
  ARGV[3] digest       SHA-256 hex of the key
  ARGV[4] created_ms   "" for now (Redis's clock); a migrated key keeps its own
  Returns: created_ms
  Errors:  CONFLICT the id is already listed ]]
--- @include "now_ms"
local created = tonumber(ARGV[4]) or now_ms()
local record = cmsgpack.pack({name = ARGV[2], digest = ARGV[3], created_ms = created})
if redis.call("HSETNX", KEYS[1], ARGV[1], record) == 0 then
  return redis.error_reply("CONFLICT key id already registered")
end
return created
