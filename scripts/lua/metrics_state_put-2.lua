--[[ metrics_state_put: store a renewed state snapshot, if the caller still has the turn.
  KEYS[1] state    string  as in metrics_state_get
  KEYS[2] turn     string  as in metrics_state_get
  ARGV[1] token    the calling node's, as given to metrics_state_get
  ARGV[2] snapshot msgpack [read at ms, read took ms, Prometheus text]
  ARGV[3] ttl_ms   how long nobody renews it after this, >= 0 (0: the next caller may)
  ARGV[4] keep_ms  how long the snapshot is kept without a renewal, > 0
  Returns: 1 stored | 0 not stored: the caller's lease lapsed and another node may be renewing
  Errors:  none ]]
local state, turn = KEYS[1], KEYS[2]
if redis.call("GET", turn) ~= ARGV[1] then
  return 0
end
redis.call("SET", state, ARGV[2], "PX", tonumber(ARGV[4]))
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call("SET", turn, ARGV[1], "PX", ttl)
else
  redis.call("DEL", turn)
end
return 1
