-- return_lapsed(items, new, in_progress, failed, leases, now, max_retries, bound): hand back at
-- most `bound` items whose claim lease ended at or before `now`: to NEW (at their arrival place)
-- with retries + 1, or to FAILED once they had max_retries retries. Returns how many it handled.
local function return_lapsed(items, new, in_progress, failed, leases, now, max_retries, bound)
  local ids = redis.call("ZRANGE", leases, "-inf", now, "BYSCORE", "LIMIT", 0, bound)
  for _, id in ipairs(ids) do
    redis.call("ZREM", leases, id)
    local raw = redis.call("HGET", items, id)
    if raw then
      local item = cmsgpack.unpack(raw)
      if item.status == "IN_PROGRESS" then  -- every other move takes the item out of `leases` itself
        redis.call("ZREM", in_progress, id)
        local retries = item.retries or 0
        if retries >= max_retries then
          item.status = "FAILED"
          redis.call("ZADD", failed, item.seq, id)
        else
          item.status = "NEW"
          item.retries = retries + 1
          item.claimed_by = nil
          item.claimed_ms = nil
          redis.call("ZADD", new, item.seq, id)
        end
        item.lease_ms, item.lease_token, item.lease_span_ms = nil, nil, nil
        item.updated_ms = now
        redis.call("HSET", items, id, cmsgpack.pack(item))
      end
    end
  end
  return #ids
end

-- is_earliest(leases, id): 1 when `id` holds the queue's earliest lease end (the sweep index must hear of it)
local function is_earliest(leases, id)
  local head = redis.call("ZRANGE", leases, 0, 0)[1]
  if head == id then return 1 end
  return 0
end
