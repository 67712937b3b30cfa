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
-- The entry is written as admit.lua writes one: the parked copy holds
-- meta's members as fields of their own (the worker's job_entry_object),
-- and they go back into one meta, so that a worker starting the job
-- without a hash (lost meanwhile) begins one with the whole view
-- (job_start.lua, lib/job_read.lua's ENTRY_VIEW).

-- An entry's fields of their own: admit.lua's FIELDS, job_defer.lua's.
local OWN = {file_content = true, diff = true, error_log = true, files = true, run = true,
             spec = true, job_id = true, defer_until_ms = true}

-- The parked copy's flat field list as an entry: meta, then the fields of
-- their own. A copy that has a meta field is taken as it is.
local function entry_of(flat)
  local own, meta, any = {}, {}, false
  for i = 1, #flat, 2 do
    if flat[i] == 'meta' then return flat end
    if OWN[flat[i]] then
      own[#own + 1] = flat[i]
      own[#own + 1] = flat[i + 1]
    else
      meta[flat[i]] = flat[i + 1]
      any = true
    end
  end
  if not any then return own end
  local entry = {'meta', cjson.encode(meta)}
  for i = 1, #own do entry[#entry + 1] = own[i] end
  return entry
end

local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, id in ipairs(due) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local key = 'deferred:job:' .. id
    local fields = redis.call('HGETALL', key)
    if #fields > 0 then
      redis.call('XADD', KEYS[2], '*', unpack(entry_of(fields)))
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
