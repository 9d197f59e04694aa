-- serve(keys, uid, now, kind, maxlen, channel, retention): move a waiting person to served, feed the
-- rolling ETA (last 20 waits, averaged once 3 are served) and set "now serving"
-- (cur: msgpack {user id, name, service_type_id, served_ms, ticket}).
-- keys = {wait, ent, done, donex, stats, durations, events}. Returns the packed finished entry.
local function serve(keys, uid, now, kind, maxlen, channel, retention)
  local wait, ent, done, donex, stats, durations, events =
    keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7]
  local entry = cmsgpack.unpack(redis.call("HGET", ent, uid))
  redis.call("ZREM", wait, uid)
  redis.call("HDEL", ent, uid)
  local packed = archive(done, donex, uid, entry, "served", now, retention)
  redis.call("LPUSH", durations, math.max(0, now - entry[2]))
  redis.call("LTRIM", durations, 0, 19)
  local waits = redis.call("LRANGE", durations, 0, -1)
  if #waits >= 3 then
    local total = 0
    for _, ms in ipairs(waits) do total = total + tonumber(ms) end
    redis.call("HSET", stats, "ravg", string.format("%.4f", total / #waits / 60000))
  end
  redis.call("HSET", stats, "cur", cmsgpack.pack({uid, entry[1], entry[3], now, entry[5]}))
  redis.call("HINCRBY", stats, "n", 1)
  emit(events, maxlen, channel, kind, uid, {name = entry[1], ticket = entry[5]})
  return packed
end

-- type_of(packed, types): the service type name and code of a finished entry (false, false: none)
local function type_of(packed, types)
  local type_id = cmsgpack.unpack(packed)[3]
  if type_id ~= "" then
    local t = redis.call("HGET", types, type_id)
    if t then return unpack(cmsgpack.unpack(t)) end
  end
  return false, false
end
