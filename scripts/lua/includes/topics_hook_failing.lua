-- topics_hook_failing(hookatt, delta): the count of the topic's webhook deliveries whose last
-- attempt failed (their "msg_id|hook_id" attempts fields), kept in field "|failing" of hookatt so a
-- scrape reads it with one HGET (no id holds "|", so no message can collide with it). +1 when an
-- attempts field is created, -1 when one is deleted; removed at 0, and never below (deliveries
-- that failed before this count existed finish without having been counted).
local function topics_hook_failing(hookatt, delta)
  if redis.call("HINCRBY", hookatt, "|failing", delta) <= 0 then
    redis.call("HDEL", hookatt, "|failing")
  end
end
