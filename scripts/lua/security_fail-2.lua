--[[ security_fail: `count` requests from one address with no or a wrong API key, in one step:
  exactly what `count` calls one after the other would decide. Each is a failed attempt unless
  the address is banned by then; the attempt that reaches the threshold bans it. All keys are
  in the address's slot.
  KEYS[1] ban          string "1" while the address is banned (PX = ban duration)
  KEYS[2] failures     list  ms of the address's latest failed attempts, newest first (at most ARGV[1])
  ARGV[1] threshold    failures within the window that ban the address
  ARGV[2] window_ms
  ARGV[3] ban_ms
  ARGV[4] count        how many requests to decide, 1..1000
  Returns: a flat list of `count` triples, in order, one per request:
           {1, retry_ms, 0}          the address is banned
           {2, banned_now, 0}        a failed attempt; banned_now is 1 when this one banned the address
  Errors:  none ]]
--- @include "now_ms"
--- @include "security_fail"
return fail(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
