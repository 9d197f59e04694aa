--[[ lines_webhook_save: add or remove one of a line's webhooks (admin). The node registers the url
  with the topics' webhook machinery on the line's event topic (microq/lines/forward.py); this
  keeps the line's own list, which turns forwarding on while any exists. Logged as WEBHOOK_ADD
  or WEBHOOK_DELETE (meta: url).
  KEYS[1] cfg     hash    the queue's config (holds the admin-key hash)
  KEYS[2] hooks   hash    webhook url -> its signing secret ("" for the topics' default)
  KEYS[3] events  stream  the line's event log
  KEYS[4] fwc     string  the forward cursor (lines_forward)
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] "add" | "remove"
  ARGV[3] url
  ARGV[4] secret, or "" (add)
  ARGV[5] most webhooks a line may have
  ARGV[6] event stream maxlen
  ARGV[7] pub/sub channel of the line
  Returns: {1 when the line forwards now else 0, webhooks now, 1 when this call changed the list else 0}
  Errors:  FORBIDDEN, FULL (too many), NOTFOUND (remove of an unknown url) ]]
--- @include "lines_admin"
--- @include "lines_emit"
--- @include "lines_forward"
local cfg, hooks, events, cursor = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local err = admin_error(cfg, ARGV[1])
if err then return redis.error_reply(err) end
local url, changed = ARGV[3], 0
if ARGV[2] == "add" then
  local known = redis.call("HGET", hooks, url)
  if not known and redis.call("HLEN", hooks) >= tonumber(ARGV[5]) then
    return redis.error_reply("FULL a line has at most " .. ARGV[5] .. " webhooks")
  end
  if known ~= ARGV[4] then
    redis.call("HSET", hooks, url, ARGV[4])
    changed = 1
  end
  if not known then emit(events, ARGV[6], ARGV[7], "WEBHOOK_ADD", "", {url = url}) end
else
  if redis.call("HDEL", hooks, url) == 0 then return redis.error_reply("NOTFOUND no such webhook") end
  changed = 1
  emit(events, ARGV[6], ARGV[7], "WEBHOOK_DELETE", "", {url = url})
end
return {forward_follow(cfg, hooks, events, cursor), redis.call("HLEN", hooks), changed}
