--[[ metrics_state_get: the state snapshot every node serves at /metrics, and the turn to renew
  it: at most one node renews it at a time, and none before it is MICROQ_METRICS_STATE_TTL old.
  KEYS[1] state    string  msgpack [read at ms, read took ms, Prometheus text of the state gauges]
                           (PX keep_ms from its last renewal: gone when nobody scrapes)
  KEYS[2] turn     string  token of the node renewing the snapshot (PX lease_ms), then, once the
                           snapshot is stored, of the node that renewed it (PX ttl_ms): while it
                           exists nobody else renews
  ARGV[1] token    the calling node's (random per process)
  ARGV[2] lease_ms how long a renewal may take before another node may start one, > 0
  ARGV[3] want     "1": return the snapshot; "0": only the turn (a renewer's poll)
  Returns: {now ms (Redis clock), 1 when the caller has the turn now else 0, the snapshot or ""}
  Errors:  none ]]
--- @include "now_ms"
local state, turn = KEYS[1], KEYS[2]
local mine = 0
if redis.call("SET", turn, ARGV[1], "NX", "PX", tonumber(ARGV[2])) then
  mine = 1
end
local snapshot = ""
if ARGV[3] == "1" then
  snapshot = redis.call("GET", state) or ""
end
return {now_ms(), mine, snapshot}
