-- Forwarding a line's event log to its topic (microq/lines/forward.py, microq/events.py).
-- cfg "et" = "1": every event goes to the topic; a line with webhooks (hash hooks) forwards too.
-- fwc: the forward cursor, the last log entry id forwarded.

-- forwarding(cfg, hooks): whether the line forwards its events
local function forwarding(cfg, hooks)
  return redis.call("HGET", cfg, "et") == "1" or redis.call("HLEN", hooks) > 0
end

-- forward_follow(cfg, hooks, events, cursor): after a change of et or hooks. A line that starts
-- forwarding forwards from now on (the cursor starts at the log's last entry: the history stays
-- in GET .../events); one that stops forgets its cursor. Returns 1 when it forwards, else 0.
local function forward_follow(cfg, hooks, events, cursor)
  if not forwarding(cfg, hooks) then
    redis.call("DEL", cursor)
    return 0
  end
  if redis.call("EXISTS", cursor) == 0 then
    local last = redis.call("XREVRANGE", events, "+", "-", "COUNT", 1)[1]
    redis.call("SET", cursor, last and last[1] or "0-0")
  end
  return 1
end
