--[[ work_trigger_set_status: set process_status of a SINGLE trigger (seed: POST /api/trigger).
  A trigger with notifications (notify = "1": a webhook_url or publish) whose status changes
  appends the change to its outbox stream, forwarded to the topic work-trigger.<name>.
  KEYS[1] trigger      hash  (see work_trigger_create)
  KEYS[2] events       stream the trigger's outbox (MAXLEN ~ 1000)
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
local now = now_ms()
redis.call("HSET", trigger, "process_status", ARGV[1], "updated_ms", now)
if previous ~= ARGV[1] and redis.call("HGET", trigger, "notify") == "1" then
  redis.call("XADD", KEYS[2], "MAXLEN", "~", 1000, "*", "type", "trigger.status", "trigger_name",
    redis.call("HGET", trigger, "name"), "from", previous, "to", ARGV[1], "at", now)
end
return previous
