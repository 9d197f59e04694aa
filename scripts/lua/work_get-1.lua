--[[ work_get: one item, with the time it was read (for its overdue flag).
  KEYS[1] items        hash  item id -> msgpack item
  ARGV[1] id
  Returns: {now ms, item (msgpack)} | {now ms} when there is no such item
  Errors:  none ]]
--- @include "now_ms"
return {now_ms(), redis.call("HGET", KEYS[1], ARGV[1])}
