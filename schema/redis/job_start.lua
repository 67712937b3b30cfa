-- job_start.lua: marks a job running and counts the attempt. The job's hash
-- begins here: what the view shows of the stream entry is copied into it
-- (lib/job_read.lua), since admission wrote the entry only. A job put back
-- after a deferral has its hash already, kept without expiry while it
-- waited (job_defer.lua, job_undefer.lua), and gets its TTL again here;
-- should it have none (lost meanwhile), its entry's meta, which
-- job_undefer.lua writes as admission does, begins one with the whole view.
-- KEYS[1] job hash, KEYS[2] the stream. ARGV[1] TTL seconds, ARGV[2] the
-- entry id, ARGV[3] the consumer group, then field/value pairs to set
-- (started_at, pool, worker, ...).
-- Returns the attempt number, or 0 when the job has finished already (its
-- hash says done or failed: another worker took this entry over and
-- finished it while this one was stalled; or cancelled: its owner cancelled
-- it while it was queued): nothing is changed then but that the entry, a
-- stale delivery, is retired. Returns -1 - attempts (the attempts so far)
-- when its owner asked to cancel it (cancel_requested: it was running on a
-- worker that died, or its deferral ended): nothing is changed, and the
-- worker ends it as cancelled.
-- Keeps the job in its owner's index, jobs:<user>, for the TTL as well
-- (lib/job_read.lua).
-- Emits the live event 'running' (lib/events.lua).
local was = redis.call('HGET', KEYS[1], 'status')
if was == 'done' or was == 'failed' or was == 'cancelled' then
  redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return 0
end
if redis.call('HEXISTS', KEYS[1], 'cancel_requested') == 1 then
  return -1 - tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
end
local fields = job_entry_view(KEYS[2], ARGV[2]) or {}
fields[#fields + 1] = 'status'
fields[#fields + 1] = 'running'
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
local job_id = string.sub(KEYS[1], 5)
-- Listed by GET /jobs while it runs, however long it waited to start.
job_index_keep(job_owner(KEYS[1]), job_id, tonumber(ARGV[1]))
job_event(job_id, ARGV[1], 'running', cjson.encode({
  type = 'running', job_id = job_id, status = 'running',
  at = argv_field(4, 'started_at') or iso_now(), attempt = attempts,
  pool = argv_field(4, 'pool')}))
return attempts
