--[[ lines_history: the most recently finished people of a line (admin), newest first.
  KEYS[1] cfg    hash  the queue's config (holds the admin-key hash)
  KEYS[2] done   hash  user id -> msgpack finished entry (lines_archive)
  KEYS[3] donex  zset  user id -> finished_ms
  ARGV[1] SHA-256 hex of the X-Admin-Key header, or ""
  ARGV[2] most entries to return (1..200)
  ARGV[3] cursor: finished_ms of the last entry of the previous page, or "" for the newest
  ARGV[4] cursor: that entry's user id (with ARGV[3])
  ARGV[5] oldest finished_ms to include (entries past the retention are not answered)
  Returns: flat {user id, packed finished entry, ...}, newest first (by finished_ms, then user
           id descending); at most ARGV[2] pairs. Entries finished in the cursor's millisecond
           are looked at up to 1000 (close-day finishes 500 in one millisecond).
  Errors:  FORBIDDEN ]]
--- @include "lines_admin"
local err = admin_error(KEYS[1], ARGV[1])
if err then return redis.error_reply(err) end
local most, oldest = tonumber(ARGV[2]), tonumber(ARGV[5])
local ids = {}
local upper = "+inf"
if ARGV[3] ~= "" then
  -- the rest of the cursor's millisecond: same score, user ids below the cursor's (reverse lex order)
  for _, id in ipairs(redis.call("ZREVRANGEBYSCORE", KEYS[3], ARGV[3], ARGV[3], "LIMIT", 0, 1000)) do
    if id < ARGV[4] and #ids < most then ids[#ids + 1] = id end
  end
  upper = "(" .. ARGV[3]
end
if #ids < most then
  for _, id in ipairs(redis.call("ZREVRANGEBYSCORE", KEYS[3], upper, oldest, "LIMIT", 0, most - #ids)) do
    ids[#ids + 1] = id
  end
end
local out = {}
for _, id in ipairs(ids) do
  local packed = redis.call("HGET", KEYS[2], id)
  if packed then out[#out + 1] = id; out[#out + 1] = packed end
end
return out
