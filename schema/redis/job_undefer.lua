-- job_undefer.lua: moves deferred jobs whose time has come back onto their
-- stream. Any worker may run it; each job moves once (ZREM decides).
-- KEYS[1] deferred set, KEYS[2] stream. ARGV[1] now ms, ARGV[2] batch size.
-- Returns the number of jobs moved. The entry put back has an id of its
-- own (it carries job_id), so the job id names no entry: until a worker
-- starts the job (job_start.lua gives the hash its TTL), its hash is what
-- GET /job/:id reads, and it is kept without expiry meanwhile, as while the
-- job was parked (job_defer.lua; a hash parked with a TTL by an older
-- job_defer.lua loses it here), and so are its events. Each moved job
-- emits the live event 'requeued' while its hash lives (lib/events.lua).
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, id in ipairs(due) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local key = 'deferred:job:' .. id
    local fields = redis.call('HGETALL', key)
    if #fields > 0 then
      redis.call('XADD', KEYS[2], '*', unpack(fields))
      moved = moved + 1
      local hkey = 'job:' .. id
      if redis.call('EXISTS', hkey) == 1 then
        redis.call('PERSIST', hkey)
        -- job_event gives the events a TTL: taken off again, as the hash has none.
        job_event(id, 1, 'requeued', cjson.encode({
          type = 'requeued', job_id = id, status = 'queued', at = iso_now()}))
        redis.call('PERSIST', 'jobev:' .. id)
      end
    end
    redis.call('DEL', key)
  end
end
return moved
