-- queue_info.lua: one consistent, read-only look at a stream for operators
-- (GET /metrics, /queue/info, /stats), in one round trip.
-- KEYS[1] stream, KEYS[2] its dead-letter stream, KEYS[3] its deferred set.
-- ARGV[1] consumer group, ARGV[2] minutes of completion counts wanted (the
-- current one last), ARGV[3] most consumers listed, ARGV[4] idle ms under
-- which a consumer counts as active.
-- Returns {now_ms, length, has_group, pending, lag (nil when Redis cannot
-- tell), oldest pending id (nil when none), dead letters, deferred,
-- {completions per minute, oldest first}, consumers, active consumers,
-- {name, pending, idle_ms, ...} of the first ARGV[3] consumers}.
local now = now_ms()
local length, has_group, pending, lag, oldest = 0, 0, 0, false, false
local listed, total, active = {}, 0, 0
if redis.call('TYPE', KEYS[1]).ok == 'stream' then
  length = redis.call('XLEN', KEYS[1])
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == ARGV[1] then
      has_group, pending, lag = 1, f['pending'], f['lag'] or false
    end
  end
  if has_group == 1 then
    oldest = redis.call('XPENDING', KEYS[1], ARGV[1])[2] or false
    local cs = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
    total = #cs
    for i, c in ipairs(cs) do
      local f = {}
      for k = 1, #c, 2 do f[c[k]] = c[k + 1] end
      if tonumber(f['idle']) < tonumber(ARGV[4]) then active = active + 1 end
      if i <= tonumber(ARGV[3]) then
        listed[#listed + 1] = f['name']
        listed[#listed + 1] = f['pending']
        listed[#listed + 1] = f['idle']
      end
    end
  end
end
local dead = 0
if redis.call('TYPE', KEYS[2]).ok == 'stream' then dead = redis.call('XLEN', KEYS[2]) end
local deferred = 0
if redis.call('TYPE', KEYS[3]).ok == 'zset' then deferred = redis.call('ZCARD', KEYS[3]) end
-- Completions per minute, counted by job_finish.lua.
local minute = math.floor(now / 60000)
local done = {}
for m = minute - tonumber(ARGV[2]) + 1, minute do
  done[#done + 1] = tonumber(redis.call('GET', 'stats:done:' .. KEYS[1] .. ':' .. m) or '0')
end
return {now, length, has_group, pending, lag, oldest, dead, deferred, done, total, active, listed}
