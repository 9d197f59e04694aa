-- The type index and counters (docs/keys.md, Lines).
-- wt: zset, every score 0, member "<type id>\0<join sequence, 20 digits><user id>" for each
-- waiting person with a service type, so ZRANGEBYLEX finds the first waiting person of one
-- type in O(log n): what a counter that serves chosen types only calls next.
-- ctr: hash counter id -> msgpack {name, open 1|0, {type ids} (empty: every type and none),
-- serving: false | {user id, name, type id, served_ms, ticket, called_ms}}.

local function type_member(type_id, seq, uid)
  return type_id .. "\0" .. string.format("%020d", tonumber(seq)) .. uid
end

-- unindex(wt, type_id, seq, uid): take a person out of the type index (a no-op for people
-- without a type, or who joined before the index existed)
local function unindex(wt, type_id, seq, uid)
  if type_id ~= "" and seq then redis.call("ZREM", wt, type_member(type_id, seq, uid)) end
end

-- first_for_types(wt, type_ids): the user id of the first waiting person whose type is one of
-- type_ids (at most 100: one ZRANGEBYLEX each), or nil
local function first_for_types(wt, type_ids)
  local best_seq, best_uid = nil, nil
  for _, type_id in ipairs(type_ids) do
    local m = redis.call("ZRANGEBYLEX", wt, "[" .. type_id .. "\0", "(" .. type_id .. "\1", "LIMIT", 0, 1)[1]
    if m then
      local seq = m:sub(#type_id + 2, #type_id + 21)
      if not best_seq or seq < best_seq then best_seq, best_uid = seq, m:sub(#type_id + 22) end
    end
  end
  return best_uid
end

-- counter_serves(record, type_id): whether the counter may serve a person of this type
local function counter_serves(record, type_id)
  if #record[3] == 0 then return true end
  for _, t in ipairs(record[3]) do
    if t == type_id then return true end
  end
  return false
end

-- count_open(ctr, stats): store how many counters are open (stats "open"): the ETA divides by it
local function count_open(ctr, stats)
  local all, open = redis.call("HVALS", ctr), 0
  for _, packed in ipairs(all) do
    if cmsgpack.unpack(packed)[2] == 1 then open = open + 1 end
  end
  redis.call("HSET", stats, "open", open)
end

-- clear_serving(ctr, uid): a counter serving this person (a no-show) serves nobody now
local function clear_serving(ctr, uid)
  local all = redis.call("HGETALL", ctr)
  for i = 1, #all, 2 do
    local record = cmsgpack.unpack(all[i + 1])
    if record[4] and record[4][1] == uid then
      record[4] = false
      redis.call("HSET", ctr, all[i], cmsgpack.pack(record))
    end
  end
end
