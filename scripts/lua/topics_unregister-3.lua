--[[ topics_unregister: remove a topic from its registry bucket, and say so in the change log.
  KEYS[1] bucket  set     as topics_register
  KEYS[2] log     stream  as topics_register
  KEYS[3] counted string  as topics_register
  ARGV[1] name
  ARGV[2] log_max as topics_register
  ARGV[3] counts  as topics_register
  Returns: 1 (removed) | 0 (was not registered) ]]
if redis.call("SREM", KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[3] == "1" and tonumber(redis.call("GET", KEYS[3]) or "0") > 0 then redis.call("DECR", KEYS[3]) end
redis.call("XADD", KEYS[2], "MAXLEN", "~", ARGV[2], "*", "op", "-", "name", ARGV[1])
return 1
