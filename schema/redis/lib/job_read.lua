-- lib/job_read.lua: prepended to every script at build time (see Makefile).
-- A job's hot copy as GET /job/:id reads it. No worker has taken a queued
-- job yet, so it has no hash: its stream entry stands for it (job ids name
-- entries, common/job.h). A job queued again after a deferral, under an
-- entry id of its own, keeps its hash instead (job_undefer.lua).

-- What a queued job's view shows of its stream entry (the rest is for the
-- worker: the code, the reservation, ...).
local ENTRY_VIEW = {user_id = true, throttled = true, degraded = true, degraded_reason = true,
                    meta = true}

-- What the view shows of the entry eid of stream, as a flat field/value
-- list; nil when the entry is not there.
local function job_entry_view(stream, eid)
  local entry = redis.call('XRANGE', stream, eid, eid)[1]
  if not entry then return nil end
  local flat, f = {}, entry[2]
  for i = 1, #f, 2 do
    if ENTRY_VIEW[f[i]] then
      flat[#flat + 1] = f[i]
      flat[#flat + 1] = f[i + 1]
    end
  end
  return flat
end

-- The job hash's HGETALL; without one, when stream and eid name the job's
-- entry and it is there, that entry's view fields as the same flat list.
local function job_read(hkey, stream, eid)
  local flat = redis.call('HGETALL', hkey)
  if #flat > 0 or not stream then return flat end
  local view = job_entry_view(stream, eid)
  if not view then return flat end
  flat = {'status', 'queued', 'attempts', '0'}
  for i = 1, #view do flat[#flat + 1] = view[i] end
  return flat
end

-- The owner of the job whose hash is hkey: its user_id field, else that of
-- its meta (a job queued again after a deferral: job_undefer.lua writes the
-- entry as admission does); nil when neither says.
local function job_owner(hkey)
  local user = redis.call('HGET', hkey, 'user_id')
  if user then return user end
  local meta = redis.call('HGET', hkey, 'meta')
  if not meta then return nil end
  local ok, m = pcall(cjson.decode, meta)
  if ok and type(m) == 'table' and type(m.user_id) == 'string' then return m.user_id end
  return nil
end

-- Keeps job_id in its owner's index, jobs:<user> (admit.lua), for at least
-- ttl seconds: GET /jobs finds a job PostgreSQL does not have yet there
-- alone, and admit.lua gives the index CODEINSIGHT_JOB_TTL from the owner's
-- last admission, less than a job may wait, be parked or run. Puts the id
-- back should the index have expired (or trimmed it) meanwhile. No-op
-- without a user.
local function job_index_keep(user, job_id, ttl)
  if not user or user == '' then return end
  local index = 'jobs:' .. user
  redis.call('ZADD', index, 0, job_id)
  if redis.call('TTL', index) < ttl then
    redis.call('EXPIRE', index, ttl)
  end
end
