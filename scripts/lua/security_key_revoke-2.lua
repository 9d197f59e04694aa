--[[ security_key_revoke: forget an API key by its id; requests with it are refused from now on.
  KEYS[1] keys         hash  digest -> key id
  KEYS[2] key_ids      hash  key id -> msgpack {name, digest, created_ms}
  ARGV[1] id
  Returns: 1
  Errors:  NOTFOUND no key has that id ]]
local keys, key_ids = KEYS[1], KEYS[2]
local raw = redis.call("HGET", key_ids, ARGV[1])
if not raw then
  return redis.error_reply("NOTFOUND no API key with that id")
end
redis.call("HDEL", keys, cmsgpack.unpack(raw).digest)
redis.call("HDEL", key_ids, ARGV[1])
return 1
