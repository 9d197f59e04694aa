--[[ topics_consume: lease (or, with auto-ack, remove) up to `limit` messages, oldest first.
  KEYS[1..7]  the topic: seq, ready, delayed, inflight, expiry, msgs, meta (see includes/topics_keys)
  KEYS[8..11] its dead-letter topic: seq, ready, msgs, meta
  ARGV[1] limit         1..1000
  ARGV[2] lease_ms      visibility timeout; 0 = auto-ack (deliver and delete)
  ARGV[3] max_attempts  deliveries before dead-lettering; 0 = never (dead-letter topics)
  Runs topics_maintain first. Expired messages are dropped, never delivered.
  Returns: {dead_lettered, next_due_ms (-1: nothing scheduled), id1, payload1, meta1, ...}
  Errors:  INVALID ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
local k = topics_keys()
local limit, lease, max_attempts = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if not limit or limit < 1 or limit > 1000 or not lease or lease < 0 then
  return redis.error_reply("INVALID limit must be 1-1000 and lease_ms >= 0")
end
local now = now_ms()
local _, dead = topics_maintain(k, now, max_attempts)
local out = {dead, -1}
local taken = 0
while taken < limit do
  local popped = redis.call("ZPOPMIN", k.ready, math.min(limit - taken, 100))
  if #popped == 0 then break end
  for i = 1, #popped, 2 do
    local id = popped[i]
    local meta = redis.call("HGET", k.meta, id)
    if meta then
      local _, _, expires = topics_meta_parse(meta)
      if expires > 0 and expires <= now then
        topics_drop(k, id)
      else
        table.insert(out, id)
        table.insert(out, redis.call("HGET", k.msgs, id))
        table.insert(out, meta)
        taken = taken + 1
        if lease == 0 then
          topics_drop(k, id)
        else
          redis.call("ZADD", k.inflight, now + lease, id)
        end
      end
    end
  end
end
if taken == 0 then out[2] = topics_next_due(k, now) end
return out
