--[[ topics_gconsume: lease (or, with auto-ack, finish) up to `limit` messages for one member of a
  consumer group: first what the group was handed back, then new log entries after its cursor.
  KEYS[1..12]  see includes/topics_group: seq msgs meta expiry groups glog gpend gdelay of the
               topic; inflight ready retry dead of the group
  ARGV[1] group         its name (a consume creates it, as TinyMQ 3: it reads what is published next)
  ARGV[2] limit         1..1000
  ARGV[3] lease_ms      visibility timeout; 0 = auto-ack
  ARGV[4] max_attempts  deliveries to this group before it dead-letters a message; 0 = never
  ARGV[5] max_bytes     payload bytes one answer may carry (one message at least)
  ARGV[6] max_groups    most groups a topic may have
  First, bounded: delayed messages now due enter the log (200), the group's lapsed leases go back
  to its ready set or its dead letters (200); after taking, log entries every group has passed
  are trimmed (200). One call looks at 1000 log entries at most.
  Returns: {dead_lettered, next_due_ms (-1: nothing scheduled, 0: looked at 1000 entries that were
            gone: call again), lease_end_ms (-1: none), id1,
            payload1, meta1 (retry_count: this group's), ...}
  Errors:  INVALID, CONFLICT (a new group past max_groups) ]]
--- @include "now_ms"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_group"
local g = topics_group_keys()
local name = ARGV[1]
local limit, lease, max_attempts, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if not limit or limit < 1 or limit > 1000 or not lease or lease < 0 or not max_bytes then
  return redis.error_reply("INVALID limit must be 1-1000, lease_ms >= 0")
end
local now = now_ms()
if redis.call("HEXISTS", g.groups, name) == 0 then
  if redis.call("HLEN", g.groups) >= tonumber(ARGV[6]) then
    return redis.error_reply("CONFLICT the topic has the maximum of " .. ARGV[6] .. " consumer groups")
  end
  redis.call("HSET", g.groups, name, tonumber(redis.call("GET", g.seq) or "0"))
end
for _, id in ipairs(redis.call("ZRANGEBYSCORE", g.gdelay, "-inf", now, "LIMIT", 0, 200)) do
  redis.call("ZREM", g.gdelay, id)
  redis.call("ZADD", g.glog, redis.call("INCR", g.seq), id)
end
local dead = 0
for _, id in ipairs(redis.call("ZRANGEBYSCORE", g.inflight, "-inf", now, "LIMIT", 0, 200)) do
  redis.call("ZREM", g.inflight, id)
  if redis.call("HEXISTS", g.meta, id) == 0 then
    topics_group_done(g, id)
  elseif max_attempts > 0 and redis.call("HINCRBY", g.retry, id, 1) >= max_attempts then
    redis.call("ZADD", g.dead, now, id)
    dead = dead + 1
  else
    redis.call("ZADD", g.ready, now, id)
  end
end

local out = {dead, -1, -1}
local taken, bytes = 0, 0
-- nil: take it; false: skip it (gone or expired); "full": it would pass the byte budget
local function check(id)
  local meta = redis.call("HGET", g.meta, id)
  if not meta then return false end
  local _, _, expires = topics_meta_parse(meta)
  if expires > 0 and expires <= now then return false end
  local size = redis.call("HSTRLEN", g.msgs, id)
  if taken > 0 and bytes + size > max_bytes then return "full" end
  bytes = bytes + size
  return meta
end
local function deliver(id, meta, retry)
  local created, _, expires, ctype, extra = topics_meta_parse(meta)
  table.insert(out, id)
  table.insert(out, redis.call("HGET", g.msgs, id))
  table.insert(out, topics_meta_format(created, retry, expires, ctype, extra))
  taken = taken + 1
  if lease == 0 then
    topics_group_done(g, id)
  else
    redis.call("ZADD", g.inflight, now + lease, id)
    out[3] = now + lease
  end
end

local full = false
while taken < limit and not full do  -- handed back first (bounded: each pass takes or drops one)
  local popped = redis.call("ZPOPMIN", g.ready)
  if #popped == 0 then break end
  local id = popped[1]
  local meta = check(id)
  if meta == "full" then
    redis.call("ZADD", g.ready, popped[2], id)
    full = true
  elseif meta then
    deliver(id, meta, tonumber(redis.call("HGET", g.retry, id) or "0"))
  else
    topics_group_done(g, id)
  end
end
local cursor = tonumber(redis.call("HGET", g.groups, name))
local looked = 0
while taken < limit and not full and looked < 1000 do
  local entries = redis.call("ZRANGEBYSCORE", g.glog, "(" .. cursor, "+inf", "WITHSCORES", "LIMIT", 0,
                             math.min(limit - taken, 100))
  if #entries == 0 then break end
  for i = 1, #entries, 2 do
    local id = entries[i]
    local meta = check(id)
    if meta == "full" then full = true break end
    looked = looked + 1
    cursor = tonumber(entries[i + 1])
    if meta then
      redis.call("HINCRBY", g.gpend, id, 1)  -- this group's hold
      deliver(id, meta, 0)
    end
  end
end
redis.call("HSET", g.groups, name, cursor)
-- the log keeps what some group has yet to pass
local slowest = nil
for _, c in ipairs(redis.call("HVALS", g.groups)) do
  c = tonumber(c)
  if not slowest or c < slowest then slowest = c end
end
for _, id in ipairs(redis.call("ZRANGEBYSCORE", g.glog, "-inf", slowest, "LIMIT", 0, 200)) do
  redis.call("ZREM", g.glog, id)
  topics_release(g.gpend, g.msgs, g.meta, g.expiry, id)
end
if taken == 0 then
  local next_at = nil
  for _, key in ipairs({g.inflight, g.gdelay}) do
    local head = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
    if head[2] and (not next_at or tonumber(head[2]) < next_at) then next_at = tonumber(head[2]) end
  end
  if looked >= 1000 then out[2] = 0 elseif next_at then out[2] = math.max(next_at - now, 1) end
end
return out
