--[[ topics_register: add a topic to its registry bucket, and say so in the bucket's change log.
  KEYS[1] bucket  set     topic names whose crc32 falls in this bucket
  KEYS[2] log     stream  {op "+"|"-", name}: what nodes replay to keep their index current
  KEYS[3] counted string  topics of this bucket that count against MICROQ_MAX_TOPICS
  ARGV[1] name
  ARGV[2] max     most topics the broker may hold; 0 = no limit
  ARGV[3] total   counted topics now, summed over every bucket by the caller (a bucket cannot
                  see the others' slots; concurrent registrations may pass it by a few)
  ARGV[4] log_max entries the log keeps (approximate trim); a node further behind reloads
  ARGV[5] counts  "1": the topic counts against the limit ("0": a dead-letter topic)
  Returns: 1 (added) | 0 (already registered)
  Errors:  CONFLICT (the broker holds max topics) ]]
local bucket, log = KEYS[1], KEYS[2]
if redis.call("SISMEMBER", bucket, ARGV[1]) == 1 then return 0 end
local max = tonumber(ARGV[2])
if ARGV[5] == "1" and max > 0 and tonumber(ARGV[3]) >= max then
  return redis.error_reply("CONFLICT the broker holds its limit of " .. max .. " topics (MICROQ_MAX_TOPICS)")
end
redis.call("SADD", bucket, ARGV[1])
if ARGV[5] == "1" then redis.call("INCR", KEYS[3]) end
redis.call("XADD", log, "MAXLEN", "~", ARGV[4], "*", "op", "+", "name", ARGV[1])
return 1
