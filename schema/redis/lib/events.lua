-- lib/events.lua: prepended to every script at build time (see Makefile).
-- A job's live events (GET /job/:id/events, docs/events.md): each one is
-- appended to the job's small stream jobev:<id> (the last 64 exactly, an
-- exact MAXLEN: an approximate one trims whole nodes of the server's
-- stream-node-max-entries, 100 by default, and may keep more than a
-- catch-up read asks for, JOB_EVENTS_READ_MAX; expiring with the job's hot
-- copy) and published on the channel ci:events as
-- "<job id> <entry id> <type> <json>", in the same script as the change it
-- reports, so readers see history and live events in one order.

local function job_event(job_id, ttl, etype, data)
  local key = 'jobev:' .. job_id
  local id = redis.call('XADD', key, 'MAXLEN', '64', '*', 'type', etype, 'data', data)
  redis.call('EXPIRE', key, tonumber(ttl))
  redis.call('PUBLISH', 'ci:events', job_id .. ' ' .. id .. ' ' .. etype .. ' ' .. data)
  return id
end

-- Redis' clock as RFC 3339 UTC with milliseconds (what clock_rfc3339 writes).
local function iso_now()
  local t = redis.call('TIME')
  local s = tonumber(t[1])
  local ms = math.floor(tonumber(t[2]) / 1000)
  -- Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  local z = math.floor(s / 86400) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
                          - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  local sod = s % 86400
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
                       math.floor(sod / 3600), math.floor(sod % 3600 / 60), sod % 60, ms)
end

-- Value of `name` in the field/value pairs ARGV[first..]; nil when absent.
local function argv_field(first, name)
  for i = first, #ARGV - 1, 2 do
    if ARGV[i] == name then return ARGV[i + 1] end
  end
  return nil
end
