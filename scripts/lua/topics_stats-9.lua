--[[ topics_stats: one topic's counts.
  KEYS[1] ready KEYS[2] delayed KEYS[3] inflight KEYS[4] msgs KEYS[5] hooks KEYS[6] hookq
  KEYS[7] conf (policy, retain_ms, dropped)  KEYS[8] groups (consumer group -> cursor)
  KEYS[9] hookatt (its "|failing" field: deliveries whose last attempt failed, topics_hook_failing)
  Returns: {stored, ready, delayed, in_flight, webhooks, pending_deliveries, policy ("" = reject),
            retain_ms, dropped, consumer groups, failing_deliveries} ]]
local conf = redis.call("HMGET", KEYS[7], "policy", "retain_ms", "dropped")
return {redis.call("HLEN", KEYS[4]), redis.call("ZCARD", KEYS[1]), redis.call("ZCARD", KEYS[2]),
        redis.call("ZCARD", KEYS[3]), redis.call("HLEN", KEYS[5]), redis.call("ZCARD", KEYS[6]),
        conf[1] or "", tonumber(conf[2]) or 0, tonumber(conf[3]) or 0, redis.call("HLEN", KEYS[8]),
        tonumber(redis.call("HGET", KEYS[9], "|failing") or "0")}
