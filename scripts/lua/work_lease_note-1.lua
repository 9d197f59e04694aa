--[[ work_lease_note: after a claim or heartbeat that holds its queue's earliest lease, file that
  lease end in the sweep bucket: unless the queue is filed with an earlier end already. A
  sweeper's mark (a score with half a millisecond; lease ends are whole) is replaced whatever
  its time, so the sweeper, finding no longer its mark, keeps this end (work_lease_index).
  KEYS[1] queues       zset  queue name -> earliest lease end ms (or a mark)
  ARGV[1] queue        the queue's name
  ARGV[2] lease_end    ms
  Returns: 1
  Errors:  none ]]
local queues, name, lease_end = KEYS[1], ARGV[1], tonumber(ARGV[2])
local score = tonumber(redis.call("ZSCORE", queues, name))
if score == nil or score % 1 ~= 0 or score > lease_end then
  redis.call("ZADD", queues, ARGV[2], name)
end
return 1
