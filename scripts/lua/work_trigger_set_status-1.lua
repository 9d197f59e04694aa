--[[ work_trigger_set_status: set process_status of a SINGLE trigger (seed: POST /api/trigger).
  KEYS[1] trigger      hash  (see work_trigger_create)
  ARGV[1] process_status
  Returns: the previous process_status
  Errors:  NOTFOUND no such trigger, or it is not of type SINGLE (the seed answers both with 404) ]]
--- @include "now_ms"
local trigger = KEYS[1]
local kind = redis.call("HGET", trigger, "type")
if not kind then
  return redis.error_reply("NOTFOUND trigger not found")
end
if kind ~= "SINGLE" then
  return redis.error_reply("NOTFOUND trigger is of type " .. kind .. ", not SINGLE")
end
local previous = redis.call("HGET", trigger, "process_status")
redis.call("HSET", trigger, "process_status", ARGV[1], "updated_ms", now_ms())
return previous
