--[[ topics_delete: forget a topic's messages, webhooks and delivery state.
  KEYS[1..16] every key of the topic, in TopicKeys order: seq, ready, delayed, inflight, expiry,
              msgs, meta, hooks, hookq, hookatt, hookdrain, conf, groups, glog, gpend, gdelay
              (each consumer group's own keys go first, with topics_group_drop)
  ARGV[1] if_empty  "1": only when it holds no message, webhook, pending delivery or consumer
                    group (idle expiry)
  UNLINK: the keys go at once and Redis frees their memory in a background thread, so deleting a
  topic of 100k messages is O(1) here.
  Returns: number of messages deleted | -1 (if_empty, and it was not empty: nothing changed) ]]
local count = redis.call("HLEN", KEYS[6])
if ARGV[1] == "1" and (count > 0 or redis.call("HLEN", KEYS[8]) > 0
                       or redis.call("EXISTS", KEYS[9], KEYS[11], KEYS[13]) > 0) then
  return -1
end
redis.call("UNLINK", unpack(KEYS))
return count
