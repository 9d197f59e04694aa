--[[ topics_hookclaim: lease due webhook deliveries to this node, so exactly one node POSTs each.
  KEYS[1] hookq    zset "msg_id|hook_id" -> due ms (a claimed one: its lease end)
  KEYS[2] hookatt  hash "msg_id|hook_id" -> attempts made; msg_id -> deliveries left
  KEYS[3] msgs     hash id -> payload
  KEYS[4] meta     hash id -> metadata
  KEYS[5] hooks    hash hook_id -> url
  KEYS[6] expiry   zset id -> expiry ms
  KEYS[7] gpend    hash id -> holds left (consumer groups: includes/topics_maintain)
  ARGV[1] limit    most deliveries to claim
  ARGV[2] lease_ms how long the claim holds; a node that dies mid-POST loses it after this
  Deliveries whose webhook was removed or whose message expired or vanished are dropped.
  Returns: {lease_end_ms, member1, url1, payload1, meta1, attempts1, ...} (lease_end_ms is for the
           index of due work: a node that dies mid-POST leaves its deliveries due then) ]]
--- @include "now_ms"
--- @include "topics_meta"
--- @include "topics_maintain"
--- @include "topics_hook_failing"
--- @include "topics_hook_finish"
local hookq, hookatt, msgs, meta, hooks, expiry = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now = now_ms()
local out = {now + tonumber(ARGV[2])}
if redis.call("HLEN", hooks) == 0 then return out end  -- none left: topics_unhook hands the backlog back
for _, member in ipairs(redis.call("ZRANGEBYSCORE", hookq, "-inf", now, "LIMIT", 0, tonumber(ARGV[1]))) do
  local id, hook = string.match(member, "^(.*)|([^|]*)$")
  local url, payload, m = redis.call("HGET", hooks, hook), redis.call("HGET", msgs, id), redis.call("HGET", meta, id)
  local expired = false
  if m then
    local _, _, expires = topics_meta_parse(m)
    expired = expires > 0 and expires <= now
  end
  if not url or not payload or not m or expired then
    topics_hook_finish(hookq, hookatt, msgs, meta, expiry, member, KEYS[7])
  else
    redis.call("ZADD", hookq, now + tonumber(ARGV[2]), member)
    table.insert(out, member)
    table.insert(out, url)
    table.insert(out, payload)
    table.insert(out, m)
    table.insert(out, tonumber(redis.call("HGET", hookatt, member) or "0"))
  end
end
return out
