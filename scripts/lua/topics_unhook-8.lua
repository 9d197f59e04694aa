--[[ topics_unhook: remove one webhook; removing the last one hands its backlog to pull
  consumers, a bounded chunk per call (the caller calls again with hook_id "" while `more`).
  KEYS[1] hooks     hash  webhook id -> url
  KEYS[2] hookq     zset  "msg_id|hook_id" -> due ms (a claimed one: its lease end)
  KEYS[3] hookatt   hash  "msg_id|hook_id" -> attempts made; msg_id -> deliveries left; "|failing"
  KEYS[4] seq       string FIFO counter
  KEYS[5] ready     zset  id -> seq
  KEYS[6] delayed   zset  id -> due ms
  KEYS[7] meta      hash  id -> "created:retry:expires:content_type"
  KEYS[8] hookdrain zset  the backlog being handed back (hookq renamed, so hookclaim no longer sees it)
  ARGV[1] hook_id   the webhook to remove; "" to go on handing back the backlog
  ARGV[2] channel   wake-up pub/sub channel
  ARGV[3] topic     topic name, for the wake-up
  ARGV[4] chunk     most backlog entries to hand back in this call
  While other webhooks remain, the removed one's pending deliveries are dropped by hookclaim
  (each message already went, or will go, to the others). With none left the topic delivers by
  pull again, so a message still awaiting any delivery becomes ready (in publish order within a
  chunk) or delayed (if not yet due) instead of being deleted. A POST in flight then finishes as "gone".
  Returns: {found 0|1, more 0|1, due_at (earliest delayed ms handed back; while `more`, at most 30 s
           ahead, so housekeeping finishes the hand-back if the caller dies; -1: none)} ]]
--- @include "now_ms"
--- @include "topics_meta"
--- @include "topics_hook_failing"
local hooks, hookq, hookatt, seq, ready, delayed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local drain = KEYS[8]
if ARGV[1] ~= "" then
  if redis.call("HDEL", hooks, ARGV[1]) == 0 then return {0, 0, -1} end
  if redis.call("HLEN", hooks) > 0 then return {1, 0, -1} end
end
if redis.call("HLEN", hooks) == 0 and redis.call("EXISTS", drain) == 0 and redis.call("EXISTS", hookq) == 1 then
  redis.call("RENAME", hookq, drain)
end
local now = now_ms()
local delayed_n, first_delay, due_at, due_now = 0, -1, -1, {}
local pending = redis.call("ZPOPMIN", drain, tonumber(ARGV[4]))
for i = 1, #pending, 2 do
  local member = pending[i]
  local id = string.match(member, "^(.*)|[^|]*$")
  local due = tonumber(pending[i + 1])
  local tried = redis.call("HDEL", hookatt, member) == 1
  if tried then topics_hook_failing(hookatt, -1) end
  if redis.call("HDEL", hookatt, id) == 1 then  -- the first of its deliveries seen: hand it back once
    -- a first attempt not yet due: a delayed publish, or a POST in flight (due at its lease end)
    if due > now and not tried then
      redis.call("ZADD", delayed, due, id)
      delayed_n = delayed_n + 1
      if first_delay < 0 or due - now < first_delay then first_delay = due - now end
      if due_at < 0 or due < due_at then due_at = due end
    else
      local m = redis.call("HGET", KEYS[7], id)
      local created, extra = now, ""
      if m then
        local c, _, _, _, e = topics_meta_parse(m)
        created, extra = c, e
      end
      table.insert(due_now, {created, #due_now, id, extra})  -- retries reorder the hook queue: sort by publish
    end
  end
end
table.sort(due_now, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
for _, entry in ipairs(due_now) do
  redis.call("ZADD", ready, topics_rank(entry[4], redis.call("INCR", seq)), entry[3])
end
local ready_now = #due_now
if ready_now + delayed_n > 0 then
  redis.call("PUBLISH", ARGV[2], ARGV[3] .. " " .. ready_now .. " " .. delayed_n .. " " .. first_delay .. " 0")
end
local more = (redis.call("EXISTS", drain) == 1
              or (redis.call("HLEN", hooks) == 0 and redis.call("EXISTS", hookq) == 1)) and 1 or 0
if more == 1 and (due_at < 0 or due_at > now + 30000) then due_at = now + 30000 end
return {1, more, due_at}
