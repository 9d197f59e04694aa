--[[ topics_consume: lease (or, with auto-ack, remove) up to `limit` messages, oldest first.
  KEYS[1..7]  the topic: seq, ready, delayed, inflight, expiry, msgs, meta (see includes/topics_keys)
  KEYS[8..11] its dead-letter topic: seq, ready, msgs, meta
  KEYS[12]    the topic's gpend (holds of its consumer groups)
  KEYS[13]    attempt: string, msgpack {fingerprint, lease_end_ms, id1, id2, ...}: what a consume with
              this Idempotency-Key leased (ids only, never payloads); it lives as long as the lease
  ARGV[1] limit         1..1000
  ARGV[2] lease_ms      visibility timeout; 0 = auto-ack (deliver and delete)
  ARGV[3] max_attempts  deliveries before dead-lettering; 0 = never (dead-letter topics)
  ARGV[4] max_bytes     payload bytes one answer may carry: stops before the message that would
                        pass it (the first message is always taken)
  ARGV[5] fingerprint   "" (no Idempotency-Key) or the request's: a retry while the lease holds gets
                        the messages that lease still holds, and takes nothing new
  ARGV[6] filter_key    "" or a JSON key: take only ready messages whose JSON payload has it with
  ARGV[7] filter_val    this value (includes/topics_filter); the others stay ready, in place. A
                        filtered call looks at the oldest FILTER_SCAN ready messages at most.
  Runs topics_maintain first. Expired messages are dropped, never delivered, at most
  DROP_MAX per call: past that it stops and answers next_due 0 ("call again").
  Returns: {dead_lettered, next_due_ms (-1: nothing scheduled, 0: call again), lease_end_ms
            (-1: nothing leased), id1, payload1, meta1, ...}
  Errors:  INVALID, UNPROCESSABLE (the key was used for another request) ]]
--- @include "now_ms"
--- @include "topics_keys"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_filter"
local k = topics_keys()
local DROP_MAX = 1000
local limit, lease, max_attempts = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_bytes = tonumber(ARGV[4])
if not limit or limit < 1 or limit > 1000 or not lease or lease < 0 or not max_bytes then
  return redis.error_reply("INVALID limit must be 1-1000, lease_ms >= 0, max_bytes a number")
end
local now = now_ms()
local attempt, fingerprint = KEYS[13], ARGV[5]
if fingerprint ~= "" then
  local stored = redis.call("GET", attempt)
  if stored then
    local earlier = cmsgpack.unpack(stored)
    if earlier[1] ~= fingerprint then
      return redis.error_reply("UNPROCESSABLE this Idempotency-Key was used for a different request")
    end
    local lease_end = tonumber(earlier[2])
    local again = {0, -1, lease_end}
    for i = 3, #earlier do
      local id = earlier[i]
      if tonumber(redis.call("ZSCORE", k.inflight, id) or "-1") == lease_end then  -- still under that lease
        table.insert(again, id)
        table.insert(again, redis.call("HGET", k.msgs, id))
        table.insert(again, redis.call("HGET", k.meta, id))
      end
    end
    if #again > 3 then return again end
    -- nothing of it is still leased (acknowledged, or the lease lapsed): a new receive
  end
end
local _, dead = topics_maintain(k, now, max_attempts)
local out = {dead, -1, -1}
local taken, bytes, dropped, full = 0, 0, 0, false
local fkey, fval = ARGV[6] or "", ARGV[7] or ""

local function take(id, payload, meta)
  table.insert(out, id)
  table.insert(out, payload)
  table.insert(out, meta)
  taken = taken + 1
  if lease == 0 then
    topics_finish(k, id)
  else
    redis.call("ZADD", k.inflight, now + lease, id)
    out[3] = now + lease
  end
end

if fkey ~= "" then
  local decoded = 0
  for _, id in ipairs(redis.call("ZRANGE", k.ready, 0, FILTER_SCAN - 1)) do
    if taken >= limit or decoded >= FILTER_BYTES then break end
    local meta = redis.call("HGET", k.meta, id)
    local _, _, expires = topics_meta_parse(meta or "0:0:0:")
    if not meta or (expires > 0 and expires <= now) then
      topics_drop(k, id)
    else
      local payload = redis.call("HGET", k.msgs, id) or ""
      decoded = decoded + #payload
      if topics_matches(payload, fkey, fval) then
        if taken > 0 and bytes + #payload > max_bytes then break end
        bytes = bytes + #payload
        redis.call("ZREM", k.ready, id)
        take(id, payload, meta)
      end
    end
  end
  limit = 0  -- the loop below is for unfiltered calls
end
while taken < limit and not full and dropped < DROP_MAX do
  -- one at a time once the budget is near: a popped message that does not fit must go back
  local popped = redis.call("ZPOPMIN", k.ready, math.min(limit - taken, 100))
  if #popped == 0 then break end
  for i = 1, #popped, 2 do
    local id = popped[i]
    local meta = redis.call("HGET", k.meta, id)
    if full then
      redis.call("ZADD", k.ready, popped[i + 1], id)  -- back where it was, first in line
    elseif meta then
      local _, _, expires = topics_meta_parse(meta)
      if expires > 0 and expires <= now then
        topics_drop(k, id)
        dropped = dropped + 1
      else
        local size = redis.call("HSTRLEN", k.msgs, id)
        if taken > 0 and bytes + size > max_bytes then
          full = true
          redis.call("ZADD", k.ready, popped[i + 1], id)
        else
          bytes = bytes + size
          take(id, redis.call("HGET", k.msgs, id), meta)
        end
      end
    end
  end
end
if fingerprint ~= "" and taken > 0 and lease > 0 then
  local ids = {fingerprint, now + lease}
  for i = 4, #out, 3 do table.insert(ids, out[i]) end
  redis.call("SET", attempt, cmsgpack.pack(ids), "PX", lease)
end
if taken == 0 then
  out[2] = (dropped >= DROP_MAX) and 0 or topics_next_due(k, now)
end
return out
