-- topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, gpend): one webhook delivery is
-- over; the message itself goes when its last delivery is over (and, when consumer groups hold
-- it too, when they are done: includes/topics_maintain's topics_release).
local function topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, gpend)
  redis.call("ZREM", hookq, member)
  redis.call("HDEL", hookatt, member)
  local id = string.match(member, "^(.*)|[^|]*$")
  if redis.call("HINCRBY", hookatt, id, -1) <= 0 then
    redis.call("HDEL", hookatt, id)
    topics_release(gpend, msgs, meta, expiry, id)
  end
end
