--[[ work_counts: how many items a queue holds in each status, and how many are overdue or
  deferred, read at one instant.
  KEYS[1] new  KEYS[2] in_progress  KEYS[3] done  KEYS[4] failed  KEYS[5] abandoned (status zsets)
  KEYS[6] due          zset  id -> due ms of every open item with a due_date
  KEYS[7] deferred     zset  id -> defer_until ms of NEW items not claimable yet (or due, until a claim moves them)
  Returns: {new, in_progress, done, failed, abandoned, overdue, deferred}
  Errors:  none ]]
--- @include "now_ms"
local out = {}
for i = 1, 5 do
  out[i] = redis.call("ZCARD", KEYS[i])
end
local now = now_ms()
out[6] = redis.call("ZCOUNT", KEYS[6], "-inf", now)
out[7] = redis.call("ZCOUNT", KEYS[7], "(" .. now, "+inf")  -- those due already are claimable, moved by the next claim
return out
