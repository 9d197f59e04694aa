-- A message's metadata as one hash field: "created_ms:retry_count:expires_ms:content_type", then
-- an `extra` tail: "" for a plain message, else "\n" .. priority byte ("h" | "n" | "l") .. msgpack
-- {delay_ms, headers} (microq/topics/extras.py). expires_ms 0 means no ttl; the content type
-- holds no newline, so it ends where the tail begins. Scripts copy the tail, reading only its
-- priority byte.
local function topics_meta_parse(text)
  local created, retry, expires, ctype, extra = string.match(text, "^(%d+):(%d+):(%d+):([^\n]*)(.*)$")
  return tonumber(created), tonumber(retry), tonumber(expires), ctype, extra
end

local function topics_meta_format(created, retry, expires, ctype, extra)
  return created .. ":" .. retry .. ":" .. expires .. ":" .. (ctype or "") .. (extra or "")
end

-- topics_rank(extra, seq): a ready score encoding priority and FIFO in one number: high messages
-- score seq - 1e15, normal seq, low seq + 1e15, so ZPOPMIN takes high before normal before low
-- and, within one, the oldest first (exact while seq < 1e15: doubles hold integers to 2^53).
local TOPICS_BAND = {h = -1e15, n = 0, l = 1e15}
local function topics_rank(extra, seq)
  if extra == nil or extra == "" then return seq end
  return (TOPICS_BAND[string.sub(extra, 2, 2)] or 0) + seq
end
