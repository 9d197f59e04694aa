--[[ work_trigger_attach: give a QUEUE trigger its firing state in its queue's slot (or update
  the configuration of the state it has, keeping its runs), then evaluate the queue's triggers:
  items may be waiting already.
  KEYS[1] items  KEYS[2] new  KEYS[3] in_progress  KEYS[4] done  KEYS[5] failed  KEYS[6] abandoned
  KEYS[7] leases  KEYS[8] claims  KEYS[9] seq  KEYS[10] ready  KEYS[11] deferred  KEYS[12] due
  KEYS[13] settings  KEYS[14] refs  KEYS[15] ref_index  KEYS[16] arrivals  KEYS[17] expiry
  KEYS[18] triggers  KEYS[19] events  KEYS[20] firings
  (the queue's keys, described in the include work_queue)
  ARGV[1] name         the trigger's name
  ARGV[2] config       JSON {min_items, max_running, run_timeout_ms, idle_status, webhook (0/1), publish (0/1)}
  Returns: the trigger's state (JSON, see include work_triggers)
  Errors:  CONFLICT the queue has TRIGGERS_MAX QUEUE triggers already ]]
--- @include "now_ms"
--- @include "work_queue"
--- @include "work_triggers"
local name = ARGV[1]
local config = cjson.decode(ARGV[2])
local raw = redis.call("HGET", Q.triggers, name)
local state
if raw then
  state = decode_state(raw)
else
  if redis.call("HLEN", Q.triggers) >= TRIGGERS_MAX then
    return redis.error_reply("CONFLICT queue has " .. TRIGGERS_MAX .. " QUEUE triggers already")
  end
  state = {name = name, fired = 0, active = {}, recent = {}, process_status = config.idle_status}
end
for _, field in ipairs({"min_items", "max_running", "run_timeout_ms", "idle_status", "webhook", "publish"}) do
  state[field] = config[field]
end
if next(state.active) == nil then state.process_status = state.idle_status end
save_state(name, state)
redis.call("HSET", Q.settings, "triggers", redis.call("HLEN", Q.triggers))
evaluate_triggers(now_ms())
return redis.call("HGET", Q.triggers, name)
