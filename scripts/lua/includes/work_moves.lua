-- Moving one item between statuses with every index in step, and adding one item (needs work_queue).

local function note(item, now, from, to, by, message)
  local history = item.history or {}
  history[#history + 1] = {at = now, from = from or false, to = to, by = by or false, message = message or false}
  while #history > HISTORY_MAX do
    table.remove(history, 1)
    item.history_dropped = (item.history_dropped or 0) + 1
  end
  item.history = history
end

-- File an item under its status (item.status) and the indices that status has.
local function enter(item, id, now, settings)
  local status = item.status
  redis.call("ZADD", Q[status], item.seq, id)
  if status == "NEW" then
    if item.defer_ms and item.defer_ms > now then
      redis.call("ZADD", Q.deferred, item.defer_ms, id)
    else
      redis.call("ZADD", Q.ready, ready_score(item), id)
    end
  end
  if FINAL[status] then
    redis.call("ZREM", Q.due, id)
    if item.reference and redis.call("HGET", Q.refs, item.reference) == id then
      redis.call("HDEL", Q.refs, item.reference)
    end
    if settings.retention_ms > 0 then
      redis.call("ZADD", Q.expiry, now + settings.retention_ms, id)
    end
  elseif item.due_ms then
    redis.call("ZADD", Q.due, item.due_ms, id)
  end
end

-- Take an item out of its status's indices (its due, refs and history entries stay).
local function leave(item, id)
  local status = item.status
  redis.call("ZREM", Q[status], id)
  if status == "NEW" then
    redis.call("ZREM", Q.ready, id)
    redis.call("ZREM", Q.deferred, id)
  elseif status == "IN_PROGRESS" then
    redis.call("ZREM", Q.leases, id)
    item.lease_ms, item.lease_token, item.lease_span_ms = nil, nil, nil
  else
    redis.call("ZREM", Q.expiry, id)
  end
end

-- Move an item to status `to`, noting the transition in its history (the caller HSETs it).
local function transition(item, id, to, now, settings, by, message)
  local from = item.status
  leave(item, id)
  item.status = to
  item.updated_ms = now
  enter(item, id, now, settings)
  note(item, now, from, to, by, message)
  item_event(settings, item, from, to, now, by)
end

-- A new item's seq, id and indices; item.status is its first status. The caller HSETs it.
local function add_item(item, id, now, settings)
  item.id = id
  item.seq = redis.call("INCR", Q.seq)
  if item.seq == 1 then redis.call("HSET", Q.settings, "upgraded", "1") end  -- a new queue: nothing to upgrade
  item.created_ms = now
  item.updated_ms = now
  enter(item, id, now, settings)
  if item.status ~= "NEW" then item.first_status = item.status end
  if item.reference then
    redis.call("ZADD", Q.ref_index, 0, ref_member(item))
    if settings.unique and not FINAL[item.status] then redis.call("HSET", Q.refs, item.reference, id) end
  end
  redis.call("ZADD", Q.arrivals, now, arrival_member(item.seq))
  item_event(settings, item, nil, item.status, now, item.created_by)
end
