--[[ topics_hookdone: record how a claimed webhook delivery went.
  KEYS[1] hookq  KEYS[2] hookatt  KEYS[3] msgs  KEYS[4] meta  KEYS[5] expiry  (as topics_hookclaim)
  (hookatt also keeps "|failing": deliveries whose last attempt failed, see topics_hook_failing)
  KEYS[6] dlq seq  KEYS[7] dlq ready  KEYS[8] dlq msgs  KEYS[9] dlq meta  (the dead-letter topic)
  KEYS[10] gpend  hash id -> holds left (consumer groups: includes/topics_maintain)
  ARGV[1] member        "msg_id|hook_id"
  ARGV[2] outcome       "ok" | "retry" (try again after a backoff) | "fail" (never retry)
  ARGV[3] max_attempts  attempts before a copy goes to the dead-letter topic
  ARGV[4] backoff_ms    first retry delay; doubles per attempt, at most one hour
  ARGV[2] may also be "later": the node did not try (its target's circuit is open or busy): due
          again after backoff_ms, no attempt counted
  Returns: {status, due_at}: status "delivered" | "retrying" | "dead_lettered" | "gone" (purged or
           already finished); due_at the ms of the retry (for the index of due work), else -1 ]]
--- @include "now_ms"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_hook_failing"
--- @include "topics_hook_finish"
local hookq, hookatt, msgs, meta, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local member, outcome = ARGV[1], ARGV[2]
if not redis.call("ZSCORE", hookq, member) then return {"gone", -1} end
if outcome == "ok" then
  topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, KEYS[10])
  return {"delivered", -1}
end
if outcome == "later" then
  local at = now_ms() + tonumber(ARGV[4])
  redis.call("ZADD", hookq, at, member)
  return {"retrying", at}
end
local attempts = redis.call("HINCRBY", hookatt, member, 1)
if attempts == 1 then topics_hook_failing(hookatt, 1) end  -- failing from now until it is over
if outcome == "retry" and attempts < tonumber(ARGV[3]) then
  local at = now_ms() + math.min(tonumber(ARGV[4]) * 2 ^ (attempts - 1), 3600000)
  redis.call("ZADD", hookq, at, member)
  return {"retrying", at}
end
local id = string.match(member, "^(.*)|[^|]*$")
local payload, m = redis.call("HGET", msgs, id), redis.call("HGET", meta, id)
if payload and m and redis.call("HEXISTS", KEYS[8], id) == 0 then
  local created, _, _, ctype, extra = topics_meta_parse(m)
  redis.call("HSET", KEYS[8], id, payload)
  redis.call("HSET", KEYS[9], id, topics_meta_format(created, attempts, 0, ctype, extra))
  redis.call("ZADD", KEYS[7], topics_rank(extra, redis.call("INCR", KEYS[6])), id)
end
topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, KEYS[10])
return {"dead_lettered", -1}
