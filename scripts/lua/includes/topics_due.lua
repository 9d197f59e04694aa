-- topics_first_due(zsets): the lowest score (ms) in any of the given zsets, or -1 when all are
-- empty: when the topic next has housekeeping or webhook work (for the index of due work).
local function topics_first_due(zsets)
  local first = -1
  for _, key in ipairs(zsets) do
    local head = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
    if head[2] then
      local at = tonumber(head[2])
      if first < 0 or at < first then first = at end
    end
  end
  return first
end
