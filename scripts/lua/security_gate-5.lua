--[[ security_gate: the whole admission of `count` work API requests that share one client
  address, API key and endpoint, in one step, on a single Redis only: its keys span the
  address's slot and the key's, which a Redis Cluster keeps on different primaries (there the
  gate reads the ban beside security_admit, and falls back to security_fail). Exactly what
  `count` requests one after the other would decide: a banned address is refused and nothing
  recorded; a known key takes places in the rate log; no or a wrong key is a failed attempt.
  KEYS[1] ban          string "1" while the address is banned (PX = ban duration)
  KEYS[2] failures     list  ms of the address's latest failed attempts, newest first
  KEYS[3] key          string key id while the key (created by `microq api-key`) is valid
  KEYS[4] rate         list  "<ms>:<n>" per call that admitted n requests for this endpoint and
                             key, newest first (includes/security_admit)
  KEYS[5] used         string the sum of n over the log's entries
  ARGV[1] env_key      "1" when the key matched a MICROQ_API_KEYS key (checked by the node);
                       "" when the requests sent no key (KEYS[3] to KEYS[5] are then unused)
  ARGV[2] limit        requests allowed in any rolling period
  ARGV[3] period_ms
  ARGV[4] count        how many requests to decide, 1..1000
  ARGV[5] threshold    failures within the window that ban the address
  ARGV[6] window_ms
  ARGV[7] ban_ms
  Returns: a flat list of `count` triples, in order, one per request:
           {0, remaining, reset_ms}  admitted
           {1, retry_ms, 0}          the address is banned
           {2, banned_now, 0}        a failed attempt; banned_now is 1 when this one banned the address
           {3, retry_ms, reset_ms}   the rate limit is spent; nothing was recorded
  Errors:  none ]]
--- @include "now_ms"
--- @include "security_admit"
--- @include "security_fail"
local ban, failures, key, rate, used = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local env_key, count = ARGV[1], tonumber(ARGV[4])
if env_key ~= "" then
  local refused = banned(ban, count)
  if refused then return refused end
  local out = admit(key, rate, used, env_key, tonumber(ARGV[2]), tonumber(ARGV[3]), count, false)
  if #out > 1 then
    out[#out] = nil  -- the stamp: nothing is ever refunded here
    return out
  end
end
return fail(ban, failures, tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), count)
