--[[ work_claim: move the oldest NEW item to IN_PROGRESS and return it. Scripts run one at a
  time, so no two callers on any node can ever receive the same item.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] new          zset  id -> arrival seq, status NEW
  KEYS[3] in_progress  zset  id -> arrival seq, status IN_PROGRESS
  ARGV[1] claimed_by   who claims it ("" for nobody in particular)
  Returns: the claimed item (msgpack) | nil when no item is NEW
  Errors:  none ]]
--- @include "now_ms"
local items, new, in_progress = KEYS[1], KEYS[2], KEYS[3]
while true do
  local head = redis.call("ZRANGE", new, 0, 0, "WITHSCORES")
  if #head == 0 then
    return nil
  end
  local id, seq = head[1], head[2]
  redis.call("ZREM", new, id)
  local raw = redis.call("HGET", items, id)
  if raw then  -- an id without its item cannot happen through these scripts; skip it if it ever does
    local item = cmsgpack.unpack(raw)
    local now = now_ms()
    item.status = "IN_PROGRESS"
    item.updated_ms = now
    item.claimed_ms = now
    if ARGV[1] ~= "" then item.claimed_by = ARGV[1] else item.claimed_by = nil end
    raw = cmsgpack.pack(item)
    redis.call("HSET", items, id, raw)
    redis.call("ZADD", in_progress, seq, id)
    return raw
  end
end
