-- The indices of one work queue, kept in step by every script that adds, moves or removes an
-- item. Such a script takes the queue's 17 keys in QueueKeys.all order (microq/work/keys.py):
--   items hash id -> msgpack item; NEW .. ABANDONED zsets id -> arrival seq (one per status);
--   leases zset id -> lease end ms; claims, seq counters; ready zset id -> rank (priority, then
--   seq) of NEW items claimable now; deferred zset id -> defer_until ms of NEW items not yet;
--   due zset id -> due ms of open items with a due_date; settings hash; refs hash reference ->
--   id of its open item (unique references); ref_index zset "reference\0seq\0id" (lex, for find);
--   arrivals zset seq -> created ms (find by date); expiry zset id -> when a final item goes;
--   triggers hash QUEUE trigger name -> JSON firing state (include work_triggers); events stream:
--   the outbox to topic work.<queue>; firings stream: the outbox of trigger firings to webhooks.
local Q = {items = KEYS[1], NEW = KEYS[2], IN_PROGRESS = KEYS[3], DONE = KEYS[4], FAILED = KEYS[5],
  ABANDONED = KEYS[6], leases = KEYS[7], claims = KEYS[8], seq = KEYS[9], ready = KEYS[10],
  deferred = KEYS[11], due = KEYS[12], settings = KEYS[13], refs = KEYS[14], ref_index = KEYS[15],
  arrivals = KEYS[16], expiry = KEYS[17], triggers = KEYS[18], events = KEYS[19], firings = KEYS[20]}
local EVENTS_MAXLEN = 10000  -- entries an outbox stream keeps (XADD MAXLEN ~): a forwarder away longer loses the oldest
local FINAL = {DONE = true, FAILED = true, ABANDONED = true}
local RANK = {High = 0, Normal = 1, Low = 2}
local RANK_STEP = 281474976710656  -- 2^48: rank * 2^48 + seq stays an exact double below 2^53
local HISTORY_MAX = 50  -- transitions kept per item after its creation (the latest); the creation is
                        -- read from created_ms, created_by and first_status, so a bulk add packs no history
local PURGE_PER_CALL = 20  -- expired final items a write removes at most (more than one write adds)

-- The queue's settings (GET/PUT /api/queue/{q}/settings), with the node's defaults under them.
local function queue_settings(default_max_retries, default_retention_ms)
  local raw = redis.call("HMGET", Q.settings, "max_retries", "unique_reference", "retention_ms", "events_topic")
  return {max_retries = tonumber(raw[1]) or default_max_retries, unique = raw[2] == "1",
    retention_ms = tonumber(raw[3]) or default_retention_ms, events = raw[4] == "1"}
end

-- With the queue's events_topic on, append one item transition to its outbox (from "" = created).
local function item_event(settings, item, from, to, now, by)
  if not settings.events then return end
  redis.call("XADD", Q.events, "MAXLEN", "~", EVENTS_MAXLEN, "*", "type", "item", "item_id", item.id,
    "from", from or "", "to", to, "by", by or "", "at", now, "reference", item.reference or "",
    "retry_number", item.retry_number or 0)
end

-- An item's member in ref_index: reference, NUL, seq (16 digits: lex order is arrival order), NUL, id.
local function ref_member(item)
  return item.reference .. "\0" .. string.format("%016d", item.seq) .. "\0" .. item.id
end

-- An item's member in arrivals: its seq in 16 digits, so that members of one created ms (a bulk
-- add) sort by seq (a zset orders equal scores by member bytes: "100" before "95").
-- Members written before this were the bare seq; the purge removes both forms.
local function arrival_member(seq)
  return string.format("%016d", seq)
end

-- A string: Lua turns numbers into text with 14 digits, and a rank's score has up to 16.
local function ready_score(item)
  return string.format("%.0f", (RANK[item.priority or "Normal"] or 1) * RANK_STEP + item.seq)
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
        redis.call("ZREM", Q.arrivals, arrival_member(item.seq), item.seq)
        if item.reference then redis.call("ZREM", Q.ref_index, ref_member(item)) end
        redis.call("HDEL", Q.items, id)
      end
    end
  end
end
