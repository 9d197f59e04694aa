--[[ security_refund: take back the rate-log places that security_admit gave requests the gate
  then refused because their address is banned (read beside the admission, in the same round trip).
  KEYS[1] rate         list  ms of requests admitted for this endpoint and key, newest first
  ARGV[1] count        places to take back
  ARGV[2] stamp        the ms security_admit wrote for them
  Returns: how many were taken back
  Errors:  none ]]
return redis.call("LREM", KEYS[1], tonumber(ARGV[1]), ARGV[2])
