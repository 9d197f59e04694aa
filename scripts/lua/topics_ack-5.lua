--[[ topics_ack: the ungrouped queue is done with delivered (in-flight) messages.
  KEYS[1] inflight  zset id -> lease end ms
  KEYS[2] expiry    zset id -> expiry ms
  KEYS[3] msgs      hash id -> payload
  KEYS[4] meta      hash id -> metadata
  KEYS[5] gpend     hash id -> holds left: a message a consumer group still holds is kept for it
  ARGV[1..n] ids
  Returns: {1|0 per id}: 1 acknowledged, 0 unknown, never delivered or already acknowledged ]]
--- @include "topics_meta"
--- @include "topics_maintain"
local out = {}
for i, id in ipairs(ARGV) do
  if redis.call("ZREM", KEYS[1], id) == 1 then
    topics_release(KEYS[5], KEYS[3], KEYS[4], KEYS[2], id)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
