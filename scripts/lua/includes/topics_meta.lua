-- A message's metadata as one hash field: "created_ms:retry_count:expires_ms:content_type".
-- expires_ms 0 means no ttl; the content type comes last because it may itself hold ':'.
local function topics_meta_parse(text)
  local created, retry, expires, ctype = string.match(text, "^(%d+):(%d+):(%d+):(.*)$")
  return tonumber(created), tonumber(retry), tonumber(expires), ctype
end

local function topics_meta_format(created, retry, expires, ctype)
  return created .. ":" .. retry .. ":" .. expires .. ":" .. (ctype or "")
end
