--[[ security_key_create: register an API key by its SHA-256 digest (the key itself is never stored).
  KEYS[1] keys         hash  digest -> key id
  KEYS[2] key_ids      hash  key id -> msgpack {name, digest, created_ms}
  ARGV[1] digest
  ARGV[2] id
  ARGV[3] name
  Returns: created_ms
  Errors:  CONFLICT the digest or the id is already registered ]]
--- @include "now_ms"
local keys, key_ids = KEYS[1], KEYS[2]
local digest, id = ARGV[1], ARGV[2]
if redis.call("HEXISTS", keys, digest) == 1 or redis.call("HEXISTS", key_ids, id) == 1 then
  return redis.error_reply("CONFLICT key already registered")
end
local now = now_ms()
redis.call("HSET", keys, digest, id)
redis.call("HSET", key_ids, id, cmsgpack.pack({name = ARGV[3], digest = digest, created_ms = now}))
return now
