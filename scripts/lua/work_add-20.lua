--[[ work_add: store 1..1000 new work items, all or none (seed's POST /api/queue and the bulk add).
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] new          zset  id -> arrival seq, status NEW (KEYS[3..6]: IN_PROGRESS, DONE, FAILED, ABANDONED)
  KEYS[3] in_progress  KEYS[4] done  KEYS[5] failed  KEYS[6] abandoned
  KEYS[7] leases       KEYS[8] claims  KEYS[9] seq (arrival counter)
  KEYS[10] ready       zset  id -> rank of claimable NEW items   KEYS[11] deferred  zset id -> defer_until ms
  KEYS[12] due         zset  id -> due ms                        KEYS[13] settings  hash
  KEYS[14] refs        hash  reference -> open item id           KEYS[15] ref_index zset "reference\0id"
  KEYS[16] arrivals    zset  seq -> created ms                   KEYS[17] expiry    zset id -> purge ms
  KEYS[18] triggers    hash  QUEUE trigger name -> JSON firing state
  KEYS[19] events      stream the outbox to topic work.<queue>   KEYS[20] firings  stream trigger firings to webhooks
  (the include work_queue describes each)
  ARGV[1] max_retries  the node's default (the queue's settings override it)
  ARGV[2] retention_ms the node's default retention of final items (0: kept)
  ARGV[3] items        msgpack array of maps: id, queue_name, status, data, reference, message,
                       created_by, created_date, priority, defer_ms, due_ms (validated by the node)
  Then every QUEUE trigger of the queue is evaluated (include work_triggers) and may fire.
  Returns: the items' ids, in order
  Errors:  CONFLICT an id exists already (a UUID collision), or, with unique references, a
           reference is held by an open item (the message names it and its id) or repeats in
           the batch; nothing is written ]]
--- @include "now_ms"
--- @include "work_queue"
--- @include "work_triggers"
--- @include "work_bulk"
local settings = queue_settings(tonumber(ARGV[1]), tonumber(ARGV[2]))
local batch = cmsgpack.unpack(ARGV[3])
local function where(i)
  if #batch > 1 then return "items[" .. (i - 1) .. "]: " end
  return ""
end
local ids = {}
for i, item in ipairs(batch) do ids[i] = item.id end
for i, raw in ipairs(redis.call("HMGET", Q.items, unpack(ids))) do  -- one call, not one per item
  if raw then
    return redis.error_reply("CONFLICT " .. where(i) .. "item id already exists")
  end
end
local seen = {}
for i, item in ipairs(batch) do
  if settings.unique and item.reference and not FINAL[item.status] then
    local open = holder(item.reference)
    if open then
      return redis.error_reply("CONFLICT " .. where(i) .. "reference '" .. item.reference ..
        "' is held by item " .. open.id .. " (" .. open.status .. ")")
    end
    if seen[item.reference] then
      return redis.error_reply("CONFLICT " .. where(i) .. "reference '" .. item.reference ..
        "' repeats items[" .. (seen[item.reference] - 1) .. "] of this batch")
    end
    seen[item.reference] = i
  end
end
local now = now_ms()
purge_expired(now)
add_items(batch, now, settings)
evaluate_triggers(now)
return ids
