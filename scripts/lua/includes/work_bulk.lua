-- Adding many items at once (needs work_queue).

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
    put(Q.arrivals, now, arrival_member(item.seq))
    if status ~= "NEW" then item.first_status = status end
    put(Q.items, id, cmsgpack.pack(item))
    item_event(settings, item, nil, status, now, item.created_by)
  end
  for key, list in pairs(writes) do
    local command = "ZADD"
    if key == Q.items or key == Q.refs then command = "HSET" end
    for start = 1, #list, 1000 do
      redis.call(command, key, unpack(list, start, math.min(start + 999, #list)))
    end
  end
end
