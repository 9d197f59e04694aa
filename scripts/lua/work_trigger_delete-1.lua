--[[ work_trigger_delete: remove a trigger (its name leaves the registry in a separate SREM).
  KEYS[1] trigger      hash  (see work_trigger_create)
  Returns: 1 when it existed, 0 when there was none
  Errors:  none ]]
return redis.call("DEL", KEYS[1])
