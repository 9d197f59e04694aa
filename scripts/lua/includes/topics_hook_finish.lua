-- topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member): one webhook delivery is
-- over; the message itself goes when its last delivery is over.
local function topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member)
  redis.call("ZREM", hookq, member)
  redis.call("HDEL", hookatt, member)
  local id = string.match(member, "^(.*)|[^|]*$")
  if redis.call("HINCRBY", hookatt, id, -1) <= 0 then
    redis.call("HDEL", hookatt, id)
    redis.call("HDEL", msgs, id)
    redis.call("HDEL", meta, id)
    redis.call("ZREM", expiry, id)
  end
end
