-- QUEUE triggers that start robots (needs work_queue). A trigger's firing state lives in its
-- queue's slot (Q.triggers: name -> JSON), so the script that changes how many NEW items wait
-- also decides, in the same run, whether a trigger fires: one decision, on one Redis, whatever
-- the number of nodes. State fields:
--   name, min_items, max_running, run_timeout_ms, idle_status (process_status between runs),
--   process_status (RUNNING while a run is active), webhook (1: firings go to the firings outbox),
--   publish (1: firings go to the events outbox, topic work.<queue>), fired (runs started),
--   last_fired_ms, active {run_id = fired ms}, recent [{run_id, fired_ms, ended_ms, status}].
-- The rule: with k runs active, run k+1 starts when k < max_running and at least
-- min_items * (k + 1) items wait (NEW and claimable now): one run per min_items waiting items,
-- as UiPath's "another job for each N new items", at most max_running at once.
local RECENT_RUNS = 20  -- finished runs a trigger keeps
local TRIGGERS_MAX = 20  -- QUEUE triggers one queue may have (each is evaluated by every change)

local function waiting_now(now)
  return redis.call("ZCARD", Q.ready) + redis.call("ZCOUNT", Q.deferred, "-inf", now)
end

local function active_count(state)
  local n = 0
  for _ in pairs(state.active) do n = n + 1 end
  return n
end

local function notify(state, kind, run_id, now, waiting, running)
  if state.webhook ~= 1 and state.publish ~= 1 then return end
  local fields = {"type", kind, "trigger_name", state.name, "run_id", run_id, "at", now,
    "waiting", waiting, "running", running, "process_status", state.process_status}
  if state.webhook == 1 then
    redis.call("XADD", Q.firings, "MAXLEN", "~", EVENTS_MAXLEN, "*", unpack(fields))
  end
  if state.publish == 1 then
    redis.call("XADD", Q.events, "MAXLEN", "~", EVENTS_MAXLEN, "*", unpack(fields))
  end
end

-- End one active run (status: done, failed, expired); false when it is not active.
local function end_run(state, run_id, status, now)
  local fired_ms = state.active[run_id]
  if not fired_ms then return false end
  state.active[run_id] = nil
  local recent = {}
  if type(state.recent) == "table" then recent = state.recent end
  table.insert(recent, 1, {run_id = run_id, fired_ms = fired_ms, ended_ms = now, status = status})
  while #recent > RECENT_RUNS do table.remove(recent) end
  state.recent = recent
  if next(state.active) == nil then state.process_status = state.idle_status end
  return true
end

local function end_expired(state, now)
  local changed = false
  for run_id, fired_ms in pairs(state.active) do
    if fired_ms + state.run_timeout_ms <= now then
      end_run(state, run_id, "expired", now)
      changed = true
    end
  end
  return changed
end

-- Fire what the rule allows now (one state); true when the state changed.
local function fire(state, now, waiting)
  local changed = false
  while true do
    local running = active_count(state)
    if running >= state.max_running or waiting < state.min_items * (running + 1) then break end
    local run_id = tostring(redis.call("HINCRBY", Q.settings, "run_seq", 1))
    state.active[run_id] = now
    state.fired = (state.fired or 0) + 1
    state.last_fired_ms = now
    state.process_status = "RUNNING"
    notify(state, "trigger.fired", run_id, now, waiting, running + 1)
    changed = true
  end
  return changed
end

local function decode_state(raw)
  local state = cjson.decode(raw)
  if type(state.active) ~= "table" then state.active = {} end
  return state
end

local function save_state(name, state)
  if next(state.active) == nil then state.active = nil end  -- cjson writes {} for an empty table: one shape
  redis.call("HSET", Q.triggers, name, cjson.encode(state))
  if state.active == nil then state.active = {} end
end

-- Every QUEUE trigger of the queue: end runs past their timeout, then fire what the rule allows.
local function evaluate_triggers(now)
  if redis.call("EXISTS", Q.triggers) == 0 then return 0 end
  local waiting = waiting_now(now)
  local flat = redis.call("HGETALL", Q.triggers)
  local fired = 0
  for i = 1, #flat, 2 do
    local state = decode_state(flat[i + 1])
    local before = state.fired or 0
    local changed = end_expired(state, now)
    if fire(state, now, waiting) then changed = true end
    if changed then save_state(flat[i], state) end
    fired = fired + (state.fired or 0) - before
  end
  return fired
end
