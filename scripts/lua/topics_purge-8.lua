--[[ topics_purge: delete every message of a topic (ready, delayed, in flight, awaiting webhooks).
  KEYS[1] ready KEYS[2] delayed KEYS[3] inflight KEYS[4] expiry KEYS[5] msgs KEYS[6] meta
  KEYS[7] hookq KEYS[8] hookatt
  The FIFO counter and webhook registrations stay.
  Returns: number of messages deleted ]]
local count = redis.call("HLEN", KEYS[5])
redis.call("DEL", unpack(KEYS))
return count
