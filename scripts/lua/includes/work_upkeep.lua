-- What claims and the sweep do before their own work (needs work_queue and work_moves).

-- Queues made before priorities have NEW items that are in no `ready` zset. A claim files them,
-- UPGRADE_PER_CALL at a time in arrival order, before it takes the head (so they keep their
-- FIFO place); the settings hash keeps the progress ("upgrade_seq") and, once done, "upgraded".
-- A queue whose first item is made by this version is marked upgraded at once.
local UPGRADE_PER_CALL = 1000
local function upgrade_new(now)
  local state = redis.call("HMGET", Q.settings, "upgraded", "upgrade_seq")
  if state[1] then return end
  local after = tonumber(state[2]) or 0
  local ids = redis.call("ZRANGE", Q.NEW, "(" .. after, "+inf", "BYSCORE", "LIMIT", 0, UPGRADE_PER_CALL)
  if #ids == 0 and after == 0 then return end  -- no NEW item: nothing to file (and a claim on an empty name writes nothing)
  if #ids > 0 then
    for _, raw in ipairs(redis.call("HMGET", Q.items, unpack(ids))) do
      if raw then
        local item = cmsgpack.unpack(raw)
        if item.status == "NEW" then
          if item.defer_ms and item.defer_ms > now then
            redis.call("ZADD", Q.deferred, item.defer_ms, item.id)
          else
            redis.call("ZADD", Q.ready, ready_score(item), item.id)
          end
        end
        if item.seq > after then after = item.seq end
      end
    end
  end
  if #ids < UPGRADE_PER_CALL then
    redis.call("HSET", Q.settings, "upgraded", "1")
    redis.call("HDEL", Q.settings, "upgrade_seq")
  else
    redis.call("HSET", Q.settings, "upgrade_seq", after)
  end
end

-- NEW items whose defer_until has come become claimable (bounded; the rest on the next call).
local function promote_deferred(now, bound)
  local ids = redis.call("ZRANGE", Q.deferred, "-inf", now, "BYSCORE", "LIMIT", 0, bound)
  for _, id in ipairs(ids) do
    redis.call("ZREM", Q.deferred, id)
    local raw = redis.call("HGET", Q.items, id)
    if raw then
      local item = cmsgpack.unpack(raw)
      if item.status == "NEW" then redis.call("ZADD", Q.ready, ready_score(item), id) end
    end
  end
end

-- Hand back at most `bound` items whose claim lease ended at or before `now`: to NEW (at their
-- priority and arrival place) with retries + 1, or to FAILED once they had max_retries retries.
local function return_lapsed(now, settings, bound)
  local ids = redis.call("ZRANGE", Q.leases, "-inf", now, "BYSCORE", "LIMIT", 0, bound)
  for _, id in ipairs(ids) do
    redis.call("ZREM", Q.leases, id)
    local raw = redis.call("HGET", Q.items, id)
    if raw then
      local item = cmsgpack.unpack(raw)
      if item.status == "IN_PROGRESS" then  -- every other move takes the item out of `leases` itself
        local retries = item.retries or 0
        if retries >= settings.max_retries then
          transition(item, id, "FAILED", now, settings, "lease", "lease lapsed " .. (retries + 1) .. " times")
        else
          item.retries = retries + 1
          item.claimed_by, item.claimed_ms = nil, nil
          transition(item, id, "NEW", now, settings, "lease", "lease lapsed")
        end
        redis.call("HSET", Q.items, id, cmsgpack.pack(item))
      end
    end
  end
  return #ids
end

-- is_earliest(id): 1 when `id` holds the queue's earliest lease end (the sweep index must hear of it)
local function is_earliest(id)
  local head = redis.call("ZRANGE", Q.leases, 0, 0)[1]
  if head == id then return 1 end
  return 0
end
