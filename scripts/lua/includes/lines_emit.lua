-- emit(events, maxlen, channel, kind, uid, meta): append to the line's capped event stream and wake
-- live streams on every node. The stream entry id carries the timestamp. MAXLEN is exact, not
-- "~": "~" trims only whole nodes of 100 entries, so a configured cap of 10 kept about 100.
local function emit(events, maxlen, channel, kind, uid, meta)
  redis.call("XADD", events, "MAXLEN", maxlen, "*",
    "type", kind, "user_id", uid, "meta", cjson.encode(meta))
  redis.call("PUBLISH", channel, kind .. " " .. uid)
end
