--[[ topics_gack: a consumer group is done with messages its members hold.
  KEYS[1..12] as topics_gconsume (includes/topics_group)
  ARGV[1..n]  ids
  Returns: {1|0 per id}: 1 acknowledged, 0 not in flight in this group ]]
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_group"
local g = topics_group_keys()
local out = {}
for i, id in ipairs(ARGV) do
  if redis.call("ZREM", g.inflight, id) == 1 then
    topics_group_done(g, id)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
