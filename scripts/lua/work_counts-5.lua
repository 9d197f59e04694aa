--[[ work_counts: how many items a queue holds in each status, read at one instant.
  KEYS[1] new          zset  status NEW
  KEYS[2] in_progress  zset  status IN_PROGRESS
  KEYS[3] done         zset  status DONE
  KEYS[4] failed       zset  status FAILED
  KEYS[5] abandoned    zset  status ABANDONED
  Returns: {new, in_progress, done, failed, abandoned}
  Errors:  none ]]
local out = {}
for i = 1, 5 do
  out[i] = redis.call("ZCARD", KEYS[i])
end
return out
