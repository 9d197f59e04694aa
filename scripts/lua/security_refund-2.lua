--[[ security_refund: take back the rate-log places that security_admit gave requests the gate
  then refused because their address is banned (read beside the admission, in the same round trip).
  KEYS[1] rate         list  "<ms>:<n>" per admitting call, newest first (includes/security_admit)
  KEYS[2] used         string the sum of n over the log's entries
  ARGV[1] count        places to take back: the n of the entry security_admit wrote
  ARGV[2] stamp        the ms security_admit wrote for them
  Returns: how many places were taken back (0 or count)
  Errors:  none ]]
local rate, used_key = KEYS[1], KEYS[2]
local count = tonumber(ARGV[1])
if redis.call("LREM", rate, 1, string.format("%s:%d", ARGV[2], count)) == 0 then
  return 0
end
if redis.call("DECRBY", used_key, count) <= 0 then
  redis.call("DEL", used_key)
end
return count
