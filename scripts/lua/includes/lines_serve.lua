-- serve(keys, uid, now, kind, maxlen, channel, retention, counter_id, counter): move a waiting
-- person to served, feed the rolling ETA (last 20 waits, averaged once 3 are served) and set
-- "now serving" (cur: msgpack {user id, name, service_type_id, served_ms, ticket}); with a
-- counter (its id and unpacked record, see lines_counter), that counter now serves them.
-- keys = {wait, ent, done, donex, stats, durations, events, wt, ctr}. Returns the packed finished entry.
local function serve(keys, uid, now, kind, maxlen, channel, retention, counter_id, counter)
  local wait, ent, done, donex, stats, durations, events, wt, ctr =
    keys[1], keys[2], keys[3], keys[4], keys[5], keys[6], keys[7], keys[8], keys[9]
  local entry = cmsgpack.unpack(redis.call("HGET", ent, uid))
  unindex(wt, entry[3], redis.call("ZSCORE", wait, uid), uid)
  redis.call("ZREM", wait, uid)
  redis.call("HDEL", ent, uid)
  local packed = archive(done, donex, uid, entry, "served", now, retention, counter_id, counter and counter[1],
    now, counter_id)
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
  local meta = {name = entry[1], ticket = entry[5]}
  if counter then
    counter[4] = {uid, entry[1], entry[3], now, entry[5] or "", now}
    redis.call("HSET", ctr, counter_id, cmsgpack.pack(counter))
    meta.counter, meta.counter_name = counter_id, counter[1]
  end
  emit(events, maxlen, channel, kind, uid, meta)
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

-- open_counter(ctr, counter_id): the unpacked record of an open counter, or nil and an error
-- reply ("" counter_id: no counter, nil and nil)
local function open_counter(ctr, counter_id)
  if counter_id == "" then return nil, nil end
  local packed = redis.call("HGET", ctr, counter_id)
  if not packed then return nil, redis.error_reply("NOTFOUND no such counter") end
  local record = cmsgpack.unpack(packed)
  if record[2] ~= 1 then return nil, redis.error_reply("CONFLICT counter " .. record[1] .. " is closed") end
  return record, nil
end
