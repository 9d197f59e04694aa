--[[ topics_gcreate: create a consumer group; it reads what is published from now on (TinyMQ 3).
  KEYS[1] groups  hash consumer group -> cursor (the seq of the last log entry it took)
  KEYS[2] seq     string: the topic's counter, whose next values number new log entries
  ARGV[1] group
  ARGV[2] max     most groups a topic may have
  Returns: 1 (created) | 0 (it existed)
  Errors:  CONFLICT (the topic has max groups) ]]
if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call("HLEN", KEYS[1]) >= tonumber(ARGV[2]) then
  return redis.error_reply("CONFLICT the topic has the maximum of " .. ARGV[2] .. " consumer groups")
end
return redis.call("HSET", KEYS[1], ARGV[1], tonumber(redis.call("GET", KEYS[2]) or "0"))
