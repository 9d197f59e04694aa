--[[ topics_hookadd: register a webhook, unless the topic already has the most it may have.
  KEYS[1] hooks    hash webhook id -> url, or "url\nsecret" for a webhook with a secret
  ARGV[1] hook_id  stable per URL (registering a URL again is the same webhook)
  ARGV[2] stored   the url, or "url\nsecret"
  ARGV[3] max      most webhooks one topic may have: each publish is one POST per webhook
  Returns: 1 (added) | 0 (already registered: its secret is now the one given, or none)
  Errors:  CONFLICT (the topic has max webhooks) ]]
local hooks = KEYS[1]
if redis.call("HEXISTS", hooks, ARGV[1]) == 1 then
  redis.call("HSET", hooks, ARGV[1], ARGV[2])
  return 0
end
if redis.call("HLEN", hooks) >= tonumber(ARGV[3]) then
  return redis.error_reply("CONFLICT topic already has the maximum of " .. ARGV[3] .. " webhooks")
end
return redis.call("HSET", hooks, ARGV[1], ARGV[2])
