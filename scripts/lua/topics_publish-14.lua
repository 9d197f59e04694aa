--[[ topics_publish: store a batch of messages in one topic, all or nothing.
  KEYS[1] seq       string  FIFO counter
  KEYS[2] ready     zset    id -> seq
  KEYS[3] delayed   zset    id -> due ms
  KEYS[4] expiry    zset    id -> expiry ms
  KEYS[5] msgs      hash    id -> payload
  KEYS[6] meta      hash    id -> "created:retry:expires:content_type"
  KEYS[7] hooks     hash    webhook id -> url
  KEYS[8] hookq     zset    "msg_id|hook_id" -> due ms (pending webhook deliveries)
  KEYS[9] hookatt   hash    "msg_id|hook_id" -> attempts made; msg_id -> deliveries left
  KEYS[10] conf     hash    policy ("reject" | "drop-oldest"), retain_ms, dropped
  KEYS[11] groups   hash    consumer group -> cursor (see topics_gconsume)
  KEYS[12] glog     zset    id -> seq: the log consumer groups read
  KEYS[13] gpend    hash    id -> holds left (the ungrouped queue, the log, each group holding it)
  KEYS[14] gdelay   zset    id -> due ms: delayed messages that enter the log when due
  ARGV[1] channel   wake-up pub/sub channel
  ARGV[2] topic     topic name, for the wake-up
  ARGV[3] max       most messages the topic may hold
  ARGV[4] batch     msgpack list of {id, payload, delay_ms, ttl_ms, content_type, extra}: extra is
                    the metadata tail (priority, headers: includes/topics_meta), "" for a plain message
  ARGV[5] max_deliveries  most webhook deliveries (messages x webhooks) one call may queue, so
                    one call's work stays bounded (a batch of 1000 to 100 webhooks would be 100k)
  ARGV[6] with_ids  "1": the reply also lists the batch's ids (a call with an Idempotency-Key,
                    whose retry must answer with the ids the first call stored)
  A topic with webhooks delivers by push: its messages wait in hookq, not in ready.
  A topic with consumer groups also appends each message to its log (a delayed one when due),
  with 2 holds: the ungrouped queue's (or its webhooks') and the log's.
  Full (max messages): policy "reject" is FULL; "drop-oldest" first drops as many ready messages
  as the batch needs, low before normal before high priority, oldest first (for the groups too),
  FULL when not enough are ready. A message without a ttl gets the topic's retain_ms as one.
  Publishes "<topic> <ready_now> <delayed> <first_delay_ms> <hooked> <logged>" on the channel.
  Returns: {ready_now, delayed, hooked 0|1, due_at[, id1, id2, ...]}: due_at is the earliest ms at which this batch
           left work to do (a delay, a ttl, a webhook delivery), or -1, for the index of due work
  Errors:  FULL (the topic holds max messages), INVALID (malformed batch), TOOLARGE (past max_deliveries) ]]
--- @include "now_ms"
--- @include "topics_meta"
local seq, ready, delayed, expiry, msgs, meta = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local hooks, hookq, hookatt = KEYS[7], KEYS[8], KEYS[9]
local conf, groups, glog, gpend, gdelay = KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14]
local max = tonumber(ARGV[3])
local ok, batch = pcall(cmsgpack.unpack, ARGV[4])
if not ok or type(batch) ~= "table" or #batch == 0 then
  return redis.error_reply("INVALID batch must be a non-empty msgpack list")
end
local policy, retain = unpack(redis.call("HMGET", conf, "policy", "retain_ms"))
retain = tonumber(retain) or 0
local over = redis.call("HLEN", msgs) + #batch - max
if over > 0 then
  local full = "FULL topic " .. ARGV[2] .. " holds its limit of " .. max .. " messages"
  if policy ~= "drop-oldest" or #batch > max then return redis.error_reply(full) end
  local victims = {}
  for _, band in ipairs({{"5e14", "+inf"}, {"-5e14", "(5e14"}, {"-inf", "(-5e14"}}) do  -- low, normal, high
    if #victims >= over then break end
    for _, id in ipairs(redis.call("ZRANGEBYSCORE", ready, band[1], band[2], "LIMIT", 0, over - #victims)) do
      table.insert(victims, id)
    end
  end
  if #victims < over then return redis.error_reply(full .. " and too few are ready to drop the oldest") end
  for _, id in ipairs(victims) do
    redis.call("ZREM", ready, id)
    redis.call("ZREM", expiry, id)
    redis.call("HDEL", msgs, id)
    redis.call("HDEL", meta, id)
    redis.call("HDEL", gpend, id)  -- a log entry left behind is skipped by the groups
  end
  redis.call("HINCRBY", conf, "dropped", #victims)
end
local grouped = redis.call("EXISTS", groups) == 1
local now = now_ms()
local hook_ids = redis.call("HKEYS", hooks)
if #batch * #hook_ids > tonumber(ARGV[5]) then
  return redis.error_reply("TOOLARGE a batch may make at most " .. ARGV[5] .. " webhook deliveries (messages x "
                           .. #hook_ids .. " webhooks): send smaller batches")
end
local ready_now, delayed_n, first_delay, logged = 0, 0, -1, 0
local due_at = -1
local function due(at)
  if due_at < 0 or at < due_at then due_at = at end
end
for _, m in ipairs(batch) do
  local id, payload, delay, ttl, ctype, extra = m[1], m[2], tonumber(m[3]), tonumber(m[4]), m[5], m[6]
  local expires = 0
  if ttl == 0 then ttl = retain end
  if ttl > 0 then
    expires = now + ttl
    redis.call("ZADD", expiry, expires, id)
    due(expires)
  end
  redis.call("HSET", msgs, id, payload)
  redis.call("HSET", meta, id, now .. ":0:" .. expires .. ":" .. (ctype or "") .. (extra or ""))
  local at = nil  -- its seq, once it has one
  if grouped then
    redis.call("HSET", gpend, id, 2)
    if delay > 0 then
      redis.call("ZADD", gdelay, now + delay, id)
    else
      at = redis.call("INCR", seq)
      redis.call("ZADD", glog, at, id)
      logged = logged + 1
    end
  end
  if #hook_ids > 0 then
    local due_args = {}  -- one ZADD per message: a call per delivery costs ten times as much
    for i, hook in ipairs(hook_ids) do
      due_args[2 * i - 1] = now + delay
      due_args[2 * i] = id .. "|" .. hook
    end
    redis.call("ZADD", hookq, unpack(due_args))
    redis.call("HSET", hookatt, id, #hook_ids)
    due(now + delay)
  elseif delay > 0 then
    redis.call("ZADD", delayed, now + delay, id)
    due(now + delay)
    delayed_n = delayed_n + 1
    if first_delay < 0 or delay < first_delay then first_delay = delay end
  else
    redis.call("ZADD", ready, topics_rank(extra, at or redis.call("INCR", seq)), id)
    ready_now = ready_now + 1
  end
end
local hooked = (#hook_ids > 0) and 1 or 0
redis.call("PUBLISH", ARGV[1], ARGV[2] .. " " .. ready_now .. " " .. delayed_n .. " " .. first_delay .. " " .. hooked
                               .. " " .. logged)
local reply = {ready_now, delayed_n, hooked, due_at}
if ARGV[6] == "1" then
  for _, m in ipairs(batch) do table.insert(reply, m[1]) end
end
return reply
