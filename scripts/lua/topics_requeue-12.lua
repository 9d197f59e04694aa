--[[ topics_requeue: put a delivered message back at the end of its queue, retry_count + 1;
  at max_attempts it goes to the dead-letter topic instead.
  KEYS[1..12] as topics_consume
  ARGV[1] id
  ARGV[2] max_attempts  0 = never dead-letter
  ARGV[3] max_messages  limit for a message rebuilt from the request
  ARGV[4] fallback      "" or msgpack {payload, created_ms, retry_count, content_type, extra}: the
                        message as the client holds it, rebuilt when the broker no longer has
                        it (auto-acked, or acknowledged, then requeued)
  Returns: {status, retry_count}: status "requeued" | "dead_lettered" (now, or already in the
           dead-letter topic: nothing changed) | "queued" (already waiting for delivery: nothing changed)
  Errors:  NOTFOUND (unknown id and no payload), FULL, INVALID ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
local k = topics_keys()
local id, max_attempts, max_messages = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()

local function requeue(created, retry, expires, ctype, extra)
  retry = retry + 1
  if max_attempts > 0 and retry >= max_attempts then
    topics_dead_letter(k, id, created, retry, ctype, extra)
    return {"dead_lettered", retry}
  end
  redis.call("HSET", k.meta, id, topics_meta_format(created, retry, expires, ctype, extra))
  topics_enqueue(k, id, extra)
  return {"requeued", retry}
end

if redis.call("ZREM", k.inflight, id) == 1 then
  local meta = redis.call("HGET", k.meta, id)
  if meta then
    return requeue(topics_meta_parse(meta))
  end
end
local meta = redis.call("HGET", k.meta, id)
if meta and redis.call("HEXISTS", k.gpend, id) == 1 and not redis.call("ZSCORE", k.ready, id)
    and not redis.call("ZSCORE", k.delayed, id) then
  -- the ungrouped queue was done with it (acknowledged) but a consumer group still holds it:
  -- the ungrouped queue takes it back, with a hold of its own again
  redis.call("HINCRBY", k.gpend, id, 1)
  return requeue(topics_meta_parse(meta))
end
if meta then
  local _, retry = topics_meta_parse(meta)
  return {"queued", retry}
end
-- already dead-lettered (a stale copy from a consumer whose lease lapsed): rebuilding it
-- would deliver it again beside its dead letter
local dead = redis.call("HGET", k.dlq_meta, id)
if dead then
  local _, retry = topics_meta_parse(dead)
  return {"dead_lettered", retry}
end
if ARGV[4] == "" then
  return redis.error_reply("NOTFOUND message " .. id .. " not found; send its payload to requeue it")
end
local ok, m = pcall(cmsgpack.unpack, ARGV[4])
if not ok or type(m) ~= "table" then return redis.error_reply("INVALID malformed message") end
if redis.call("HLEN", k.msgs) >= max_messages then
  return redis.error_reply("FULL topic holds its limit of " .. max_messages .. " messages")
end
redis.call("HSET", k.msgs, id, m[1])
return requeue(tonumber(m[2]) or now, tonumber(m[3]) or 0, 0, m[4], m[5])
