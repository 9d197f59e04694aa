-- topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, gpend): one webhook delivery is
-- over; the message itself goes when its last delivery is over (and, when consumer groups hold
-- it too, when they are done: includes/topics_maintain's topics_release). Needs topics_hook_failing.
local function topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, gpend)
  redis.call("ZREM", hookq, member)
  if redis.call("HDEL", hookatt, member) == 1 then topics_hook_failing(hookatt, -1) end
  local id = string.match(member, "^(.*)|[^|]*$")
  if redis.call("HINCRBY", hookatt, id, -1) <= 0 then
    redis.call("HDEL", hookatt, id)
    topics_release(gpend, msgs, meta, expiry, id)
  end
end
