--[[ work_trigger_detach: remove a QUEUE trigger's firing state from its queue's slot (after its
  definition was deleted). Active runs go with it.
  KEYS[1] triggers     hash  QUEUE trigger name -> JSON firing state
  KEYS[2] settings     hash  the queue's settings ("triggers": how many it has)
  ARGV[1] name
  Returns: 1 when it had a state, 0 when not
  Errors:  none ]]
local removed = redis.call("HDEL", KEYS[1], ARGV[1])
local left = redis.call("HLEN", KEYS[1])
if left == 0 then redis.call("HDEL", KEYS[2], "triggers") else redis.call("HSET", KEYS[2], "triggers", left) end
return removed
