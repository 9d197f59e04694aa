-- topics_matches(payload, key, val): does the JSON object `payload` have `key` with value `val`
-- (TinyMQ 3's filter_key/filter_val)? A string must equal val; a number equal tonumber(val) (so
-- 1000000 matches "1000000" and "1e6": TinyMQ 3 compares Go's %v text, "1e+06"); true/false and
-- null match "true", "false", "null"; objects and arrays never match; nor does a payload that is
-- not a JSON object. The raw payload is searched for the key first, so most misses decode nothing.
local FILTER_SCAN = 200           -- ready messages one filtered consume or peek looks at, oldest first
local FILTER_BYTES = 1048576      -- payload bytes it decodes (one message at least)
local function topics_matches(payload, key, val)
  if not string.find(payload, key, 1, true) then return false end
  local ok, doc = pcall(cjson.decode, payload)
  if not ok or type(doc) ~= "table" then return false end
  local found = doc[key]
  local kind = type(found)
  if kind == "string" then return found == val end
  if kind == "number" then return tonumber(val) == found end
  if kind == "boolean" then return tostring(found) == val end
  if found == cjson.null then return val == "null" end
  return false
end
