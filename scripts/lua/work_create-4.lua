--[[ work_create: store a new work item and file it under its status, in arrival order.
  A retried request with the same Idempotency-Key gets the first request's id back and
  stores nothing new.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] seq          string counter: arrival order within the queue
  KEYS[3] status set   zset  item id -> arrival seq (the zset of the item's status)
  KEYS[4] idempotency  string  the id created for this Idempotency-Key (unused without one)
  ARGV[1] id           the new item's UUID
  ARGV[2] item         msgpack map: queue_name, status, data, reference, message, created_by, created_date
  ARGV[3] idem_ttl_ms  how long KEYS[4] remembers the id; "0" when the request has no Idempotency-Key
  Returns: the item's id (the earlier one for a repeated Idempotency-Key)
  Errors:  CONFLICT when the id already exists (a UUID collision; nothing is written) ]]
--- @include "now_ms"
local items, seq_key, status_set, idempotency = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, idem_ttl = ARGV[1], tonumber(ARGV[3])
if idem_ttl > 0 then
  local earlier = redis.call("GET", idempotency)
  if earlier then return earlier end
end
if redis.call("HEXISTS", items, id) == 1 then
  return redis.error_reply("CONFLICT item id already exists")
end
local item = cmsgpack.unpack(ARGV[2])
local now = now_ms()
local seq = redis.call("INCR", seq_key)
item.id = id
item.seq = seq
item.created_ms = now
item.updated_ms = now
redis.call("HSET", items, id, cmsgpack.pack(item))
redis.call("ZADD", status_set, seq, id)
if idem_ttl > 0 then
  redis.call("SET", idempotency, id, "PX", idem_ttl)
end
return id
