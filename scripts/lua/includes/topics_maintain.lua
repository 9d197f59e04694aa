-- topics_drop(k, id): forget a message everywhere in its topic (it expired): its consumer groups
-- skip it too.
local function topics_drop(k, id)
  redis.call("ZREM", k.ready, id)
  redis.call("ZREM", k.delayed, id)
  redis.call("ZREM", k.inflight, id)
  redis.call("ZREM", k.expiry, id)
  redis.call("HDEL", k.msgs, id)
  redis.call("HDEL", k.meta, id)
  redis.call("HDEL", k.gpend, id)
end

-- topics_release(gpend, msgs, meta, expiry, id): one holder of a message is done with it; the
-- body goes with the last. A message published while the topic had no consumer group has no
-- holds: its one holder, the ungrouped queue, deletes it at once.
local function topics_release(gpend, msgs, meta, expiry, id)
  if redis.call("HEXISTS", gpend, id) == 1 then
    if redis.call("HINCRBY", gpend, id, -1) > 0 then return end
    redis.call("HDEL", gpend, id)
  end
  redis.call("ZREM", expiry, id)
  redis.call("HDEL", msgs, id)
  redis.call("HDEL", meta, id)
end

-- topics_finish(k, id): the ungrouped queue is done with a message (acknowledged, auto-acked,
-- dead-lettered): out of its sets, and deleted unless a consumer group still holds it.
local function topics_finish(k, id)
  redis.call("ZREM", k.ready, id)
  redis.call("ZREM", k.delayed, id)
  redis.call("ZREM", k.inflight, id)
  topics_release(k.gpend, k.msgs, k.meta, k.expiry, id)
end

-- topics_dead_letter(k, id, created, retry, ctype, extra): move a message to the dead-letter
-- topic. The id, headers and priority are kept; a dead letter has no ttl (it waits for an operator).
local function topics_dead_letter(k, id, created, retry, ctype, extra)
  local payload = redis.call("HGET", k.msgs, id)
  if payload then
    if redis.call("HEXISTS", k.dlq_msgs, id) == 0 then
      redis.call("ZADD", k.dlq_ready, topics_rank(extra, redis.call("INCR", k.dlq_seq)), id)
    end
    redis.call("HSET", k.dlq_msgs, id, payload)
    redis.call("HSET", k.dlq_meta, id, topics_meta_format(created, retry, 0, ctype, extra))
  end
  topics_finish(k, id)
end

-- topics_enqueue(k, id, extra): make a stored message visible at the back of its priority's queue.
local function topics_enqueue(k, id, extra)
  redis.call("ZADD", k.ready, topics_rank(extra, redis.call("INCR", k.seq)), id)
end

-- topics_maintain(k, now, max_attempts): bounded housekeeping run before reads.
-- Drops expired messages (except ones a consumer holds), promotes due delayed ones, and
-- takes back lapsed leases: retry_count + 1, then back in the queue or, at max_attempts
-- (0 = never), to the dead-letter topic. Returns promoted, dead_lettered.
local function topics_maintain(k, now, max_attempts)
  local promoted, dead = 0, 0
  for _, id in ipairs(redis.call("ZRANGEBYSCORE", k.expiry, "-inf", now, "LIMIT", 0, 200)) do
    if redis.call("ZSCORE", k.inflight, id) then
      redis.call("ZREM", k.expiry, id)  -- its lease end decides; the meta still says it expired
    else
      topics_drop(k, id)
    end
  end
  for _, id in ipairs(redis.call("ZRANGEBYSCORE", k.delayed, "-inf", now, "LIMIT", 0, 200)) do
    redis.call("ZREM", k.delayed, id)
    local meta = redis.call("HGET", k.meta, id)  -- a delayed message always has a tail: its delay
    if meta then
      local _, _, _, _, extra = topics_meta_parse(meta)
      topics_enqueue(k, id, extra)
    end
    promoted = promoted + 1
  end
  for _, id in ipairs(redis.call("ZRANGEBYSCORE", k.inflight, "-inf", now, "LIMIT", 0, 200)) do
    redis.call("ZREM", k.inflight, id)
    local meta = redis.call("HGET", k.meta, id)
    if meta then
      local created, retry, expires, ctype, extra = topics_meta_parse(meta)
      retry = retry + 1
      if expires > 0 and expires <= now then
        topics_drop(k, id)
      elseif max_attempts > 0 and retry >= max_attempts then
        topics_dead_letter(k, id, created, retry, ctype, extra)
        dead = dead + 1
      else
        redis.call("HSET", k.meta, id, topics_meta_format(created, retry, expires, ctype, extra))
        topics_enqueue(k, id, extra)
        promoted = promoted + 1
      end
    end
  end
  return promoted, dead
end

-- topics_next_due(k, now): ms until a delayed message falls due or a lease lapses, or -1.
local function topics_next_due(k, now)
  local next_at = nil
  for _, key in ipairs({k.delayed, k.inflight}) do
    local first = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
    if first[2] then
      local at = tonumber(first[2])
      if not next_at or at < next_at then next_at = at end
    end
  end
  if not next_at then return -1 end
  return math.max(next_at - now, 1)
end
