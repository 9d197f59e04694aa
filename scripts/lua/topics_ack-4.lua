--[[ topics_ack: delete delivered (in-flight) messages.
  KEYS[1] inflight  zset id -> lease end ms
  KEYS[2] expiry    zset id -> expiry ms
  KEYS[3] msgs      hash id -> payload
  KEYS[4] meta      hash id -> metadata
  ARGV[1..n] ids
  Returns: {1|0 per id}: 1 acknowledged, 0 unknown, never delivered or already acknowledged ]]
local out = {}
for i, id in ipairs(ARGV) do
  if redis.call("ZREM", KEYS[1], id) == 1 then
    redis.call("ZREM", KEYS[2], id)
    redis.call("HDEL", KEYS[3], id)
    redis.call("HDEL", KEYS[4], id)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
