--[[ work_lease_index: after a sweep of one queue, file its earliest lease end in the bucket.
  If a claim lowered the queue's score while it was swept (its score is no longer the mark),
  the lower of the two stays; with no claim left and nothing lowered, the queue leaves the index.
  KEYS[1] queues       zset  queue name -> earliest lease end ms (or a mark)
  ARGV[1] queue        the queue's name
  ARGV[2] next         its earliest lease end ms, "" when it holds no claim
  ARGV[3] mark         the mark work_lease_due set
  Returns: 1
  Errors:  none ]]
local queues, name, nxt, mark = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local score = tonumber(redis.call("ZSCORE", queues, name))
if score == mark then
  if nxt == "" then
    redis.call("ZREM", queues, name)
  else
    redis.call("ZADD", queues, nxt, name)
  end
elseif nxt ~= "" then
  redis.call("ZADD", queues, "LT", nxt, name)
end
return 1
