--[[ security_admit: the key check and rate limit for `count` work API requests that share one
  API key and endpoint, in one step: exactly what `count` calls one after the other would
  decide. All keys are in the API key's slot. The gate reads the address's ban beside it and,
  when the address turns out banned, takes the places back with security_refund.
  KEYS[1] key          string key id while the key (created by `microq api-key`) is valid
  KEYS[2] rate         list  "<ms>:<n>" per call that admitted n requests for this endpoint and
                             key, newest first (includes/security_admit)
  KEYS[3] used         string the sum of n over the log's entries
  ARGV[1] env_key      "1" when the key matched a MICROQ_API_KEYS key (checked by the node)
  ARGV[2] limit        requests allowed in any rolling period
  ARGV[3] period_ms
  ARGV[4] count        how many requests to decide, 1..1000
  ARGV[5] summary      optional: "1" for the short answer (a bulk add's places)
  Returns: {2} when the key is unknown (nothing was recorded: the failures are the address's), or
           a flat list of `count` triples, in order, one per request, then the stamp (ms) that
           the admitted ones left in the log:
           {0, remaining, reset_ms}  admitted
           {3, retry_ms, reset_ms}   the rate limit is spent; nothing was recorded
           with summary: {admitted, used_before, reset_ms, stamp}: the first `admitted` were
           admitted (the i-th with limit - used_before - i remaining), the rest refused with
           retry_ms = reset_ms
  Errors:  none ]]
--- @include "now_ms"
--- @include "security_admit"
return admit(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == "1")
