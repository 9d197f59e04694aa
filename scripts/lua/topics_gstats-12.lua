--[[ topics_gstats: one consumer group's counts.
  KEYS[1..12] as topics_gconsume (includes/topics_group)
  ARGV[1] group
  Returns: {exists 0|1, backlog (log entries after its cursor), ready (handed back), in_flight,
            dead_letters, delayed (the topic's messages not yet in the log)} ]]
local cursor = redis.call("HGET", KEYS[5], ARGV[1])
if not cursor then return {0, 0, 0, 0, 0, 0} end
return {1, redis.call("ZCOUNT", KEYS[6], "(" .. cursor, "+inf"), redis.call("ZCARD", KEYS[10]),
        redis.call("ZCARD", KEYS[9]), redis.call("ZCARD", KEYS[12]), redis.call("ZCARD", KEYS[8])}
