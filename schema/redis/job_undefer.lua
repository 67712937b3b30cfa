-- job_undefer.lua: moves deferred jobs whose time has come back onto their
-- stream. Any worker may run it; each job moves once (ZREM decides).
-- KEYS[1] deferred set, KEYS[2] stream. ARGV[1] now ms, ARGV[2] batch size.
-- Returns the number of jobs moved. Each moved job emits the live event
-- 'requeued' while its hot copy lives (lib/events.lua).
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, id in ipairs(due) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local key = 'deferred:job:' .. id
    local fields = redis.call('HGETALL', key)
    if #fields > 0 then
      redis.call('XADD', KEYS[2], '*', unpack(fields))
      moved = moved + 1
      local ttl = redis.call('TTL', 'job:' .. id)
      if ttl > 0 then
        job_event(id, ttl, 'requeued', cjson.encode({
          type = 'requeued', job_id = id, status = 'queued', at = iso_now()}))
      end
    end
    redis.call('DEL', key)
  end
end
return moved
