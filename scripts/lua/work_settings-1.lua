--[[ work_settings: change a queue's settings (the fields sent; the others keep their values).
  KEYS[1] settings     hash  max_retries, unique_reference ("1"/"0"), lease_ms, retention_ms
  ARGV[1..] pairs      field, value, ...; an empty value removes the field (the node's default again)
  Returns: the settings as a flat field/value array (HGETALL shape)
  Errors:  none ]]
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == "" then
    redis.call("HDEL", KEYS[1], ARGV[i])
  else
    redis.call("HSET", KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return redis.call("HGETALL", KEYS[1])
