-- job_defer.lua: parks a soft-throttled job until its model call is due.
-- The stream entry is retired and its fields kept in deferred:job:<id>; the
-- job id waits in a sorted set scored by the due time (ms). job_undefer.lua
-- puts it back on the stream then.
-- The parked copy is the job's only one (its code, its reservation) and the
-- hash its view: like a job's stream entry, neither expires while it waits,
-- however long its pool runs no worker. job_undefer.lua or job_cancel.lua
-- removes the copy; the hash gets its TTL again when a worker starts the
-- job (job_start.lua) or its owner cancels it. Its events (jobev:<id>)
-- are kept as long as the hash.
-- KEYS[1] job hash, KEYS[2] stream, KEYS[3] deferred set of the stream,
-- KEYS[4] deferred:job:<id>.
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] due ms, ARGV[4] due (RFC 3339),
-- ARGV[5] job id, ARGV[6] TTL s of the owner's job index (CODEINSIGHT_JOB_TTL
-- + the cooldown: at least until JOB_TTL past the due time), then the
-- entry's field/value pairs (user_id among them).
-- Returns 1; 0 when the entry was no longer pending (another worker
-- took it over and finished it): then nothing is parked, so a finished job
-- is never put back in the queue; or 2, nothing done, when its owner asked
-- to cancel it meanwhile (the worker ends it as cancelled now, rather than
-- leaving the request to the worker that takes it when it is due).
-- Emits the live event 'deferred' (lib/events.lua).
if redis.call('HGET', KEYS[1], 'cancel_requested') == '1' then
  return 2
end
if redis.call('XACK', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('XDEL', KEYS[2], ARGV[2])
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], unpack(fields))
-- The entry put back gets a new id: it carries the job id from now on.
redis.call('HSET', KEYS[4], 'defer_until_ms', ARGV[3], 'job_id', ARGV[5])
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[5])
-- Listed by GET /jobs as long as the TTL here (lib/job_read.lua).
job_index_keep(argv_field(7, 'user_id'), ARGV[5], tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'status', 'queued', 'deferred_until', ARGV[4])
redis.call('PERSIST', KEYS[1])
job_event(ARGV[5], ARGV[6], 'deferred', cjson.encode({
  type = 'deferred', job_id = ARGV[5], status = 'queued', at = iso_now(), ['until'] = ARGV[4]}))
redis.call('PERSIST', 'jobev:' .. ARGV[5])
return 1
