-- topics_group_keys(): the keys every consumer-group script receives, by name (KEYS[1..12]).
-- A group reads the topic's shared log (glog, id -> seq) from its cursor (groups: name -> seq of
-- the last entry it took); what it took and has not finished lives in its own keys, so a group
-- costs memory for its unacknowledged messages only. Each message published while the topic had
-- groups carries holds (gpend): the ungrouped queue's, the log's (until every group's cursor has
-- passed it) and one per group that took it; the body goes with the last (topics_release).
local function topics_group_keys()
  return {
    seq = KEYS[1], msgs = KEYS[2], meta = KEYS[3], expiry = KEYS[4],   -- the topic's
    groups = KEYS[5], glog = KEYS[6], gpend = KEYS[7], gdelay = KEYS[8],
    inflight = KEYS[9],  -- zset id -> lease end ms                      -- the group's own
    ready = KEYS[10],    -- zset id -> ms: handed back, redelivered before new log entries
    retry = KEYS[11],    -- hash id -> deliveries to this group beyond the first
    dead = KEYS[12],     -- zset id -> ms: the group's dead letters (their holds kept)
  }
end

-- topics_group_done(g, id): the group is finished with a message (acknowledged, auto-acked, gone).
local function topics_group_done(g, id)
  redis.call("HDEL", g.retry, id)
  topics_release(g.gpend, g.msgs, g.meta, g.expiry, id)
end
