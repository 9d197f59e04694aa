--[[ work_trigger_create: define a trigger, unless one of that name exists.
  KEYS[1] trigger      hash  name, type, process_status, queue_name, description, created_ms, updated_ms
  ARGV[1] name
  ARGV[2] type         SINGLE or QUEUE
  ARGV[3] process_status
  ARGV[4] queue_name   "" for SINGLE
  ARGV[5] description
  ARGV[6] extra        JSON object of further string fields (min_items, max_running, run_timeout_ms,
                       webhook_url, publish, notify); {} for none
  Returns: the trigger as a flat field/value array (HGETALL shape)
  Errors:  CONFLICT a trigger of that name exists ]]
--- @include "now_ms"
local trigger = KEYS[1]
if redis.call("EXISTS", trigger) == 1 then
  return redis.error_reply("CONFLICT a trigger of that name already exists")
end
local now = now_ms()
redis.call("HSET", trigger, "name", ARGV[1], "type", ARGV[2], "process_status", ARGV[3],
  "queue_name", ARGV[4], "description", ARGV[5], "created_ms", now, "updated_ms", now)
for field, value in pairs(cjson.decode(ARGV[6])) do
  redis.call("HSET", trigger, field, tostring(value))
end
return redis.call("HGETALL", trigger)
