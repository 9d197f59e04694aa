-- Per-day analytics of a line (docs/keys.md, Lines; microq/lines/analytics.py reads them back).
-- One hash per local day, an:<YYYY-MM-DD>, that expires `retention` ms after that day began:
--   s, ns, lf            served, no-shows, left
--   h<0..23>             served by local hour
--   w<b>, v<b>           histograms of wait and service seconds: bucket b = floor(3 log2(1 + s)),
--                        0..63 (so bucket edges 2^(b/3) - 1 s: about 26% apart; 63 holds ~25 days+)
--   t|<type id>|s ns lf w<b> v<b> n (name)   the same per service type ("" for none)
--   c|<counter id>|s v<b> n (name)            per counter ("" for serves at none)
-- A service is the time from a person's serve (or call) until that counter's next serve-next
-- or call (also one that finds nobody), its closing or deletion; "serving" records in stats
-- field sv:<counter id> = msgpack {user id, type id, served_ms} say which service is open.
-- Every write is a few HINCRBYs on one hash: bounded.

-- analytics_day(keys, argv, first, now): {key, start, offset, retention} of the day Redis's clock
-- is in. keys = the hashes of yesterday, today and tomorrow; argv[first..first+5] = label and
-- start ms of each (microq/lines/tickets.py), argv[first+6] the zone's UTC offset ms at now,
-- argv[first+7] the retention ms.
local function analytics_day(keys, argv, first, now)
  local day = {key = keys[1], start = tonumber(argv[first + 1])}
  for i = 0, 2 do
    local start = tonumber(argv[first + 2 * i + 1])
    if start <= now then day = {key = keys[i + 1], start = start} end
  end
  day.offset, day.retention = tonumber(argv[first + 6]), tonumber(argv[first + 7])
  return day
end

local function seconds_bucket(ms)
  local b = math.floor(3 * math.log(1 + math.max(0, ms) / 1000) / math.log(2))
  if b > 63 then b = 63 end
  return b
end

local function analytics_add(day, fields)
  for i = 1, #fields, 2 do redis.call("HINCRBY", day.key, fields[i], fields[i + 1]) end
  redis.call("PEXPIREAT", day.key, day.start + day.retention)
end

-- analytics_service_end(day, stats, done, counter_id, now): the open service of that counter (or
-- of the line, "") ends now: counted, and its length kept in the person's finished entry (history)
local function analytics_service_end(day, stats, done, counter_id, now)
  local field = "sv:" .. counter_id
  local open = redis.call("HGET", stats, field)
  if not open then return end
  redis.call("HDEL", stats, field)
  local uid, type_id, served = unpack(cmsgpack.unpack(open))
  local finished = redis.call("HGET", done, uid)
  if finished then
    local e = cmsgpack.unpack(finished)
    if e[4] == "served" then
      if e[9] == nil then e[9], e[10] = e[5], e[7] or "" end  -- an entry archived before called_ms
      e[11] = now - served
      redis.call("HSET", done, uid, cmsgpack.pack(e))
    end
  end
  local b = "v" .. seconds_bucket(now - served)
  analytics_add(day, {b, 1, "t|" .. type_id .. "|" .. b, 1, "c|" .. counter_id .. "|" .. b, 1})
end

-- analytics_served(day, stats, done, uid, packed, type_name, now): a person was served (packed: their
-- finished entry, lines_archive): count them and their wait, end the counter's previous
-- service and open theirs
local function analytics_served(day, stats, done, uid, packed, type_name, now)
  local e = cmsgpack.unpack(packed)
  local type_id, counter_id, counter_name = e[3], e[7] or "", e[8] or ""
  analytics_service_end(day, stats, done, counter_id, now)
  redis.call("HSET", stats, "sv:" .. counter_id, cmsgpack.pack({uid, type_id, now}))
  local w = "w" .. seconds_bucket(now - e[2])
  local t, c = "t|" .. type_id .. "|", "c|" .. counter_id .. "|"
  local hour = math.floor(((now + day.offset) % 86400000) / 3600000)
  analytics_add(day, {"s", 1, w, 1, "h" .. hour, 1, t .. "s", 1, t .. w, 1, c .. "s", 1})
  if type_name then redis.call("HSET", day.key, t .. "n", type_name) end
  if counter_name ~= "" then redis.call("HSET", day.key, c .. "n", counter_name) end
end

-- analytics_finished(day, stats, status, uid, type_id, served_entry): a wait ended without
-- service. status left or no_show (others are not counted); served_entry: the unpacked finished
-- entry when the person had been served (a no-show at the counter), else nil. Such a no-show is no longer served: its
-- service is dropped, and it leaves the served counts when it was served this same day.
local function analytics_finished(day, stats, status, uid, type_id, served_entry)
  if status ~= "left" and status ~= "no_show" then return end
  local field = status == "left" and "lf" or "ns"
  local t = "t|" .. type_id .. "|"
  local fields = {field, 1, t .. field, 1}
  if served_entry then
    local counter_id, served = served_entry[7] or "", served_entry[5]
    local open = redis.call("HGET", stats, "sv:" .. counter_id)
    if open and cmsgpack.unpack(open)[1] == uid then redis.call("HDEL", stats, "sv:" .. counter_id) end
    if served >= day.start then
      local hour = math.floor(((served + day.offset) % 86400000) / 3600000)
      for _, f in ipairs({"s", "h" .. hour, t .. "s", "c|" .. counter_id .. "|s"}) do
        fields[#fields + 1], fields[#fields + 2] = f, -1
      end
    end
  end
  analytics_add(day, fields)
end
