-- consumer_prune.lua: removes from a stream's consumer group the consumers
-- that hold nothing, so the group does not grow with every worker process
-- ever started (each joins under a name of its own; queue_info.lua walks
-- them all). A consumer holding entries is never removed: XGROUP
-- DELCONSUMER drops its pending entries, which no one would reclaim; once
-- XAUTOCLAIM has moved them to a live worker, it holds nothing. A live
-- consumer removed while idle comes back with its next delivery.
-- KEYS[1] the stream. ARGV[1] consumer group, ARGV[2] a consumer to remove
-- now if it holds nothing (a worker that stops; '' for none), ARGV[3] idle
-- ms past which any other consumer holding nothing is removed.
-- Returns the names removed.
local removed = {}
if redis.call('TYPE', KEYS[1]).ok ~= 'stream' then return removed end
local cs = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(cs) ~= 'table' or cs.err then return removed end     -- no such group
local idle_max = tonumber(ARGV[3])
for _, c in ipairs(cs) do
  local f = {}
  for k = 1, #c, 2 do f[c[k]] = c[k + 1] end
  if tonumber(f['pending']) == 0 and
     (f['name'] == ARGV[2] or tonumber(f['idle']) > idle_max) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    removed[#removed + 1] = f['name']
  end
end
return removed
