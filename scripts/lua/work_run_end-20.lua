--[[ work_run_end: a robot reports that a run a QUEUE trigger started has ended, which frees its
  place under max_running; the queue's triggers are evaluated again at once (if enough items
  still wait, the next run starts in the same call).
  KEYS[1] items  KEYS[2] new  KEYS[3] in_progress  KEYS[4] done  KEYS[5] failed  KEYS[6] abandoned
  KEYS[7] leases  KEYS[8] claims  KEYS[9] seq  KEYS[10] ready  KEYS[11] deferred  KEYS[12] due
  KEYS[13] settings  KEYS[14] refs  KEYS[15] ref_index  KEYS[16] arrivals  KEYS[17] expiry
  KEYS[18] triggers  KEYS[19] events  KEYS[20] firings
  (the queue's keys, described in the include work_queue)
  ARGV[1] name         the trigger
  ARGV[2] run_id
  ARGV[3] status       done or failed
  Returns: the trigger's state (JSON) after the end and the evaluation
  Errors:  NOTFOUND the queue has no such trigger, or the trigger no such run;
           CONFLICT the run has ended already (the message names how) ]]
--- @include "now_ms"
--- @include "work_queue"
--- @include "work_triggers"
local name, run_id = ARGV[1], ARGV[2]
local raw = redis.call("HGET", Q.triggers, name)
if not raw then
  return redis.error_reply("NOTFOUND trigger not found on its queue")
end
local state = decode_state(raw)
local now = now_ms()
if not end_run(state, run_id, ARGV[3], now) then
  if type(state.recent) == "table" then
    for _, run in ipairs(state.recent) do
      if run.run_id == run_id then
        return redis.error_reply("CONFLICT run " .. run_id .. " has ended already (" .. run.status .. ")")
      end
    end
  end
  return redis.error_reply("NOTFOUND no such run of this trigger (only the latest " .. RECENT_RUNS ..
    " finished runs are kept)")
end
save_state(name, state)
evaluate_triggers(now)
return redis.call("HGET", Q.triggers, name)
