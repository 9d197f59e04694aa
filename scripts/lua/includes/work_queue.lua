-- The indices of one work queue, kept in step by every script that adds, moves or removes an
-- item. Such a script takes the queue's 17 keys in QueueKeys.all order (microq/work/keys.py):
--   items hash id -> msgpack item; NEW .. ABANDONED zsets id -> arrival seq (one per status);
--   leases zset id -> lease end ms; claims, seq counters; ready zset id -> rank (priority, then
--   seq) of NEW items claimable now; deferred zset id -> defer_until ms of NEW items not yet;
--   due zset id -> due ms of open items with a due_date; settings hash; refs hash reference ->
--   id of its open item (unique references); ref_index zset "reference\0seq\0id" (lex, for find);
--   arrivals zset seq -> created ms (find by date); expiry zset id -> when a final item goes.
local Q = {items = KEYS[1], NEW = KEYS[2], IN_PROGRESS = KEYS[3], DONE = KEYS[4], FAILED = KEYS[5],
  ABANDONED = KEYS[6], leases = KEYS[7], claims = KEYS[8], seq = KEYS[9], ready = KEYS[10],
  deferred = KEYS[11], due = KEYS[12], settings = KEYS[13], refs = KEYS[14], ref_index = KEYS[15],
  arrivals = KEYS[16], expiry = KEYS[17]}
local FINAL = {DONE = true, FAILED = true, ABANDONED = true}
local RANK = {High = 0, Normal = 1, Low = 2}
local RANK_STEP = 281474976710656  -- 2^48: rank * 2^48 + seq stays an exact double below 2^53
local HISTORY_MAX = 50  -- transitions kept per item after its creation (the latest); the creation is
                        -- read from created_ms, created_by and first_status, so a bulk add packs no history
local PURGE_PER_CALL = 20  -- expired final items a write removes at most (more than one write adds)

-- The queue's settings (GET/PUT /api/queue/{q}/settings), with the node's defaults under them.
local function queue_settings(default_max_retries, default_retention_ms)
  local raw = redis.call("HMGET", Q.settings, "max_retries", "unique_reference", "retention_ms")
  return {max_retries = tonumber(raw[1]) or default_max_retries, unique = raw[2] == "1",
    retention_ms = tonumber(raw[3]) or default_retention_ms}
end

-- A string: Lua turns numbers into text with 14 digits, and a rank's score has up to 16.
-- An item's member in ref_index: reference, NUL, seq (16 digits: lex order is arrival order), NUL, id.
local function ref_member(item)
  return item.reference .. "\0" .. string.format("%016d", item.seq) .. "\0" .. item.id
end

local function ready_score(item)
  return string.format("%.0f", (RANK[item.priority or "Normal"] or 1) * RANK_STEP + item.seq)
end

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
  redis.call("ZADD", Q.arrivals, now, item.seq)
end

-- Many new items at once (a bulk add): what add_item does for each, with each key written by
-- a few calls of up to 500 members instead of one call per item (most of a bulk add's cost).
local function add_items(batch, now, settings)
  local first = redis.call("INCRBY", Q.seq, #batch) - #batch
  if first == 0 then redis.call("HSET", Q.settings, "upgraded", "1") end  -- a new queue: nothing to upgrade
  local writes = {}  -- key -> flat arguments
  local function put(key, a, b)
    local list = writes[key]
    if not list then list = {}; writes[key] = list end
    list[#list + 1] = a
    list[#list + 1] = b
  end
  for i, item in ipairs(batch) do
    local id = item.id
    item.seq = first + i
    item.created_ms = now
    item.updated_ms = now
    local status = item.status
    put(Q[status], item.seq, id)
    if status == "NEW" then
      if item.defer_ms and item.defer_ms > now then
        put(Q.deferred, item.defer_ms, id)
      else
        put(Q.ready, ready_score(item), id)
      end
    end
    if FINAL[status] then
      if settings.retention_ms > 0 then put(Q.expiry, now + settings.retention_ms, id) end
    elseif item.due_ms then
      put(Q.due, item.due_ms, id)
    end
    if item.reference then
      put(Q.ref_index, 0, ref_member(item))
      if settings.unique and not FINAL[status] then put(Q.refs, item.reference, id) end
    end
    put(Q.arrivals, now, item.seq)
    if status ~= "NEW" then item.first_status = status end
    put(Q.items, id, cmsgpack.pack(item))
  end
  for key, list in pairs(writes) do
    local command = "ZADD"
    if key == Q.items or key == Q.refs then command = "HSET" end
    for start = 1, #list, 1000 do
      redis.call(command, key, unpack(list, start, math.min(start + 999, #list)))
    end
  end
end

-- The open item holding `reference` in a queue with unique references, or nil.
local function holder(reference)
  local id = redis.call("HGET", Q.refs, reference)
  if not id then return nil end
  local raw = redis.call("HGET", Q.items, id)
  if not raw then return nil end
  local item = cmsgpack.unpack(raw)
  if FINAL[item.status] or item.reference ~= reference then return nil end
  return item
end

-- Remove at most PURGE_PER_CALL final items whose retention has passed, with every index entry.
local function purge_expired(now)
  for _, id in ipairs(redis.call("ZRANGE", Q.expiry, "-inf", now, "BYSCORE", "LIMIT", 0, PURGE_PER_CALL)) do
    redis.call("ZREM", Q.expiry, id)
    local raw = redis.call("HGET", Q.items, id)
    if raw then
      local item = cmsgpack.unpack(raw)
      if FINAL[item.status] then
        redis.call("ZREM", Q[item.status], id)
        redis.call("ZREM", Q.due, id)
        redis.call("ZREM", Q.arrivals, item.seq)
        if item.reference then redis.call("ZREM", Q.ref_index, ref_member(item)) end
        redis.call("HDEL", Q.items, id)
      end
    end
  end
end

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
