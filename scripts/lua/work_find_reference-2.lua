--[[ work_find_reference: one page of the items with exactly this reference, in any status,
  oldest first: a lex range of the reference index, O(log n + page).
  KEYS[1] items        hash  item id -> msgpack item
  KEYS[2] ref_index    zset  score 0, members "reference\0seq (16 digits)\0id"
  ARGV[1] reference
  ARGV[2] after        arrival seq to start after (0 for the first page)
  ARGV[3] limit        page size, 1..1000
  Returns: {now ms, the seq of the last member read or 0 when the page is not full, item
           (msgpack), ...}; the node drops an item with another reference (one that continues
           with NUL), so a page may be short and still have a next one
  Errors:  none ]]
--- @include "now_ms"
local items, ref_index, reference = KEYS[1], KEYS[2], ARGV[1]
local low = "[" .. reference .. "\0" .. string.format("%016d", tonumber(ARGV[2]) + 1)
-- "A" sorts after every digit: only members whose reference is followed by NUL and a digit
local members = redis.call("ZRANGEBYLEX", ref_index, low, "(" .. reference .. "\0A", "LIMIT", 0, tonumber(ARGV[3]))
local out = {now_ms(), 0}
if #members == 0 then return out end
if #members == tonumber(ARGV[3]) then  -- the last member of this reference's own form gives the cursor
  for i = #members, 1, -1 do
    local seq = tonumber(string.sub(members[i], #reference + 2, #reference + 17))
    if seq and string.sub(members[i], #reference + 18, #reference + 18) == "\0" then
      out[2] = seq
      break
    end
  end
end
local ids = {}
for i, member in ipairs(members) do ids[i] = string.sub(member, #reference + 19) end
for _, raw in ipairs(redis.call("HMGET", items, unpack(ids))) do
  if raw then out[#out + 1] = raw end
end
return out
