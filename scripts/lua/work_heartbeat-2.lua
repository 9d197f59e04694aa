--[[ work_heartbeat: a worker renews its claim's lease: the lease now ends `lease_ms` from now.
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] leases       zset  id -> lease end ms of every IN_PROGRESS item
  ARGV[1] id           the item
  ARGV[2] token        the claim's lease_token
  ARGV[3] lease_ms     the new lease, > 0; "" for the length the claim was given
  Returns: {item (msgpack), earliest}; earliest is 1 when this lease now ends before every other
  Errors:  NOTFOUND no such item; CONFLICT the token's claim no longer holds the item;
           INVALID lease_ms is not a number ]]
--- @include "now_ms"
local items, leases = KEYS[1], KEYS[2]
local id, token = ARGV[1], ARGV[2]
local raw = redis.call("HGET", items, id)
if not raw then
  return redis.error_reply("NOTFOUND no such item in this queue")
end
local item = cmsgpack.unpack(raw)
if item.status ~= "IN_PROGRESS" or item.lease_token ~= token then
  return redis.error_reply("CONFLICT this lease_token's claim no longer holds the item: its lease lapsed " ..
    "and the item was handed back (now " .. tostring(item.status) .. ")")
end
local lease_ms = item.lease_span_ms
if ARGV[3] ~= "" then lease_ms = tonumber(ARGV[3]) end
if not (lease_ms and lease_ms > 0) then
  return redis.error_reply("INVALID lease_ms must be a number > 0")
end
local now = now_ms()
item.lease_span_ms = lease_ms
item.lease_ms = now + lease_ms
item.updated_ms = now
raw = cmsgpack.pack(item)
redis.call("HSET", items, id, raw)
redis.call("ZADD", leases, item.lease_ms, id)
local head = redis.call("ZRANGE", leases, 0, 0)[1]
if head == id then return {raw, 1} end
return {raw, 0}
