--[[ work_orchestrated_drop: a visited queue that has neither QUEUE triggers nor an events topic
  (nor anything left to forward) leaves the sweep's index, unless it was filed again since the
  visit took it (its score is no longer the visit's mark: a trigger or the setting came back).
  KEYS[1] queues       zset  queue name -> next visit ms
  ARGV[1] queue        the queue's name
  ARGV[2] mark         the mark work_orchestrated_take set
  Returns: 1 when it left, 0 when it stays
  Errors:  none ]]
if tonumber(redis.call("ZSCORE", KEYS[1], ARGV[1])) == tonumber(ARGV[2]) then
  redis.call("ZREM", KEYS[1], ARGV[1])
  return 1
end
return 0
