-- near_front(cfg, wait, ent, nf, events, maxlen, channel): a NEAR_FRONT event (meta: name, ticket,
-- position) for each person now at position cfg "nf" or better who has had none: nf is the
-- set of those who had theirs (they leave it with the line), so each person gets one, whichever
-- node's script moved them forward. Bounded: at most cfg "nf" (<= 50) members are looked at.
local function near_front(cfg, wait, ent, nf, events, maxlen, channel)
  local threshold = tonumber(redis.call("HGET", cfg, "nf") or "0")
  if threshold <= 0 then return end
  local ids = redis.call("ZRANGE", wait, 0, threshold - 1)
  for position, id in ipairs(ids) do
    if redis.call("SADD", nf, id) == 1 then
      local entry = cmsgpack.unpack(redis.call("HGET", ent, id))
      emit(events, maxlen, channel, "NEAR_FRONT", id, {name = entry[1], ticket = entry[5], position = position})
    end
  end
end
