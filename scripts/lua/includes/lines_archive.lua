-- archive(done, donex, uid, entry, status, now, retention, counter_id, counter_name, called_ms,
-- called_at): keep a finished entry (entry =
-- the waiting {name, joined_ms, service_type_id, token digest, ticket}) so its status still
-- answers, and forget a few that finished more than `retention` ms ago (bounded, so no call
-- does unbounded work). Returns the packed finished entry
-- {name, joined_ms, service_type_id, status, finished_ms, ticket, counter id, counter name,
-- called_ms | false, the counter id called at, [service ms]} (no ticket: joined before tickets;
-- counter "" when served at none; called_ms: when served, also for a served person marked a
-- no-show later; service ms: added when the service ends, lines_analytics).
local function archive(done, donex, uid, entry, status, now, retention, counter_id, counter_name, called_ms, called_at)
  local packed = cmsgpack.pack({entry[1], entry[2], entry[3], status, now, entry[5] or "",
    counter_id or "", counter_name or "", called_ms or false, called_at or ""})
  redis.call("HSET", done, uid, packed)
  redis.call("ZADD", donex, now, uid)
  local old = redis.call("ZRANGEBYSCORE", donex, "-inf", now - retention, "LIMIT", 0, 20)
  if #old > 0 then
    redis.call("HDEL", done, unpack(old))
    redis.call("ZREM", donex, unpack(old))
  end
  return packed
end
