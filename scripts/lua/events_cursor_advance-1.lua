--[[ events_cursor_advance: move an outbox's forward cursor on, never back (microq/events.py).
  KEYS[1] cursor   string: the last forwarded stream entry id ("ms-seq")
  ARGV[1] id       the entry id forwarded up to
  Returns: the cursor's id after the call (ARGV[1], or a later id another node forwarded first)
  Errors:  none
  Two nodes forwarding the same backlog both advance it; the later id wins whatever the order. ]]
local function parts(id)
  local ms, seq = string.match(id, "^(%d+)-(%d+)$")
  return tonumber(ms), tonumber(seq)
end

local current = redis.call("GET", KEYS[1])
if current then
  local cms, cseq = parts(current)
  local nms, nseq = parts(ARGV[1])
  if cms and (cms > nms or (cms == nms and cseq >= nseq)) then
    return current
  end
end
redis.call("SET", KEYS[1], ARGV[1])
return ARGV[1]
