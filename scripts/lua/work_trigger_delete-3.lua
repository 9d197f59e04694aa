--[[ work_trigger_delete: remove a trigger and its outbox (its name leaves the registry in a
  separate SREM; a QUEUE trigger's firing state leaves its queue's slot in work_trigger_detach).
  KEYS[1] trigger      hash  (see work_trigger_create)
  KEYS[2] events       stream a SINGLE trigger's outbox
  KEYS[3] cursor       string the outbox's forward cursor
  Returns: 1 when it existed, 0 when there was none
  Errors:  none ]]
local existed = redis.call("DEL", KEYS[1])
redis.call("DEL", KEYS[2], KEYS[3])
return existed
