-- admin_error(cfg, digest): nil when digest is the line's stored admin-key hash, or the marker
-- "!verified" (the node verified a bearer JWT for this line's tenant: microq/lines/api.py; a
-- client's key arrives only as its SHA-256 hex, which can never be that marker), else an
-- error reply string.
-- Both sides are SHA-256 digests of keys, and Lua 5.1 interns strings, so `==` compares two
-- pointers: constant time, and a digest says nothing about the key that produced it.
local function admin_error(cfg, digest)
  local stored = redis.call("HGET", cfg, "k")
  if not stored then
    return "FORBIDDEN this queue has no admin key yet: create it with POST /api/<tenant_id>/queues"
  end
  if digest == "!verified" then
    return nil
  end
  if digest == "" then
    return "FORBIDDEN missing X-Admin-Key header"
  end
  if stored ~= digest then
    return "FORBIDDEN invalid X-Admin-Key"
  end
  return nil
end
