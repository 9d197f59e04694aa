--[[ topics_stats: one topic's counts.
  KEYS[1] ready KEYS[2] delayed KEYS[3] inflight KEYS[4] msgs KEYS[5] hooks KEYS[6] hookq
  Returns: {stored, ready, delayed, in_flight, webhooks, pending_deliveries} ]]
return {redis.call("HLEN", KEYS[4]), redis.call("ZCARD", KEYS[1]), redis.call("ZCARD", KEYS[2]),
        redis.call("ZCARD", KEYS[3]), redis.call("HLEN", KEYS[5]), redis.call("ZCARD", KEYS[6])}
