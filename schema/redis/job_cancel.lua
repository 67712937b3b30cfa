-- job_cancel.lua: its owner cancels a job (DELETE /job/:id; docs/pipeline.md,
-- "Cancelling a job"). The gateway has checked the owner.
-- KEYS[1] job hash, KEYS[2] the stream, KEYS[3] the stream's deferred set,
-- KEYS[4] deferred:job:<id>.
-- ARGV[1] the entry id the job id names ('' when it names none), ARGV[2]
-- the consumer group, ARGV[3] TTL seconds, ARGV[4] the job id, ARGV[5] the
-- error text a cancelled job shows.
-- Returns {outcome, the hash's HGETALL afterwards}, outcome one of:
--   'cancelled'  it was queued (its entry never taken, or parked by a
--                deferral): the entry or the parked job is gone, the hash
--                says cancelled and the token reservation is released; the
--                caller stores the job in PostgreSQL;
--   'requested'  a worker holds it: the hash gets cancel_requested and the
--                id is published on ci:cancel; the worker ends the job
--                (job_start.lua ends it too if its worker died);
--   'finished'   done, failed or cancelled already: nothing changed;
--   'absent'     no hot copy (expired, or never there).
-- Emits the live event 'cancelled' or 'cancel_requested' (lib/events.lua).
local hkey, job_id, ttl = KEYS[1], ARGV[4], tonumber(ARGV[3])
local status = redis.call('HGET', hkey, 'status') or nil    -- false: no hash
if status == 'done' or status == 'failed' or status == 'cancelled' then
  return {'finished', redis.call('HGETALL', hkey)}
end

-- The value of name in a flat field list, or in its meta member (the
-- admission's own members travel there, common/job.h).
local function member(flat, name)
  local meta
  for i = 1, #flat, 2 do
    if flat[i] == name then return flat[i + 1] end
    if flat[i] == 'meta' then meta = flat[i + 1] end
  end
  if meta then
    local ok, m = pcall(cjson.decode, meta)
    if ok and type(m) == 'table' and type(m[name]) == 'string' then return m[name] end
  end
  return nil
end

local function request()
  redis.call('HSET', hkey, 'cancel_requested', '1')
  redis.call('PUBLISH', 'ci:cancel', job_id)
  job_event(job_id, ttl, 'cancel_requested', cjson.encode({
    type = 'cancel_requested', job_id = job_id, status = status, at = iso_now()}))
  return {'requested', redis.call('HGETALL', hkey)}
end

if status == 'running' then return request() end

-- Queued. Where its admission's members are: the entry, or the parked copy.
local held
if not status then
  if ARGV[1] == '' then return {'absent', {}} end
  held = job_entry_view(KEYS[2], ARGV[1])
  if not held then return {'absent', {}} end
  -- Delivered but not started yet: job_start.lua finds the job cancelled.
  redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
  redis.call('XDEL', KEYS[2], ARGV[1])
  held[#held + 1] = 'attempts'
  held[#held + 1] = '0'
  redis.call('HSET', hkey, unpack(held))
elseif redis.call('ZREM', KEYS[3], job_id) == 1 then
  held = redis.call('HGETALL', KEYS[4])
  redis.call('DEL', KEYS[4])
  redis.call('HDEL', hkey, 'deferred_until')
else
  -- Back on the stream under an entry id of its own: its worker ends it.
  return request()
end

local at = iso_now()
redis.call('HSET', hkey, 'status', 'cancelled', 'finished_at', at, 'error', ARGV[5])
redis.call('EXPIRE', hkey, ttl)
-- The reservation, released once (job_finish.lua's guard): nothing was used.
local user, month = member(held, 'user_id'), member(held, 'month')
local reserved = tonumber(member(held, 'reserved') or '0') or 0
if user and month and redis.call('HSETNX', hkey, 'charged', '1') == 1 then
  budget_settle('budget:' .. user .. ':' .. month, reserved, 0, not status and ARGV[1] or nil)
end
job_event(job_id, ttl, 'cancelled', cjson.encode({
  type = 'cancelled', job_id = job_id, status = 'cancelled', at = at}))
return {'cancelled', redis.call('HGETALL', hkey)}
