--[[ topics_redrive: move visible dead letters back to their source topic, retry_count 0, no ttl
  (headers and priority kept).
  KEYS[1] ready    KEYS[2] expiry   KEYS[3] msgs   KEYS[4] meta    of the dead-letter topic
  KEYS[5] seq      KEYS[6] ready    KEYS[7] msgs   KEYS[8] meta    of the source topic
  KEYS[9] hooks    KEYS[10] hookq   KEYS[11] hookatt               of the source topic
  ARGV[1] limit         most messages to move in this call
  ARGV[2] max_messages  the source topic's limit: stops early when it is full
  ARGV[3] channel       wake-up pub/sub channel
  ARGV[4] topic         source topic name, for the wake-up
  ARGV[5] max_deliveries  most webhook deliveries one call may queue: fewer messages move when the
                        source has many webhooks (the caller calls again while some are left)
  Messages go to the source's webhooks when it has any, like a publish.
  Returns: {moved, left in the dead-letter topic, due_at (now when webhook deliveries were queued, else -1)} ]]
--- @include "now_ms"
--- @include "topics_meta"
local limit, max_messages = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
local hook_ids = redis.call("HKEYS", KEYS[9])
if #hook_ids > 0 then limit = math.min(limit, math.max(1, math.floor(tonumber(ARGV[5]) / #hook_ids))) end
local moved = 0
while moved < limit and redis.call("HLEN", KEYS[7]) < max_messages do
  local popped = redis.call("ZPOPMIN", KEYS[1])
  if #popped == 0 then break end
  local id = popped[1]
  local payload, meta = redis.call("HGET", KEYS[3], id), redis.call("HGET", KEYS[4], id)
  redis.call("ZREM", KEYS[2], id)
  redis.call("HDEL", KEYS[3], id)
  redis.call("HDEL", KEYS[4], id)
  if payload and meta and redis.call("HEXISTS", KEYS[7], id) == 0 then
    local created, _, _, ctype, extra = topics_meta_parse(meta)
    redis.call("HSET", KEYS[7], id, payload)
    redis.call("HSET", KEYS[8], id, topics_meta_format(created, 0, 0, ctype, extra))
    if #hook_ids > 0 then
      local due_args = {}
      for i, hook in ipairs(hook_ids) do
        due_args[2 * i - 1] = now
        due_args[2 * i] = id .. "|" .. hook
      end
      redis.call("ZADD", KEYS[10], unpack(due_args))
      redis.call("HSET", KEYS[11], id, #hook_ids)
    else
      redis.call("ZADD", KEYS[6], topics_rank(extra, redis.call("INCR", KEYS[5])), id)
    end
    moved = moved + 1
  end
end
if moved > 0 then
  redis.call("PUBLISH", ARGV[3], ARGV[4] .. " " .. moved .. " 0 -1 " .. ((#hook_ids > 0) and 1 or 0))
end
return {moved, redis.call("ZCARD", KEYS[1]), (moved > 0 and #hook_ids > 0) and now or -1}
