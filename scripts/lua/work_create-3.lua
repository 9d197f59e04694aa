--[[ work_create: store a new work item and file it under its status, in arrival order.
  (A retried request with the same Idempotency-Key is answered by the idempotency wrapper.)
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] seq          string counter: arrival order within the queue
  KEYS[3] status set   zset  item id -> arrival seq (the zset of the item's status)
  ARGV[1] id           the new item's UUID
  ARGV[2] item         msgpack map: queue_name, status, data, reference, message, created_by, created_date
  Returns: the item's id
  Errors:  CONFLICT when the id already exists (a UUID collision; nothing is written) ]]
--- @include "now_ms"
local items, seq_key, status_set = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[1]
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
return id
