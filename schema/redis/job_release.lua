-- job_release.lua: a stopping worker gives back the delivery of a job it
-- leaves pending (SIGTERM, CODEINSIGHT_SHUTDOWN_GRACE passed while the job
-- was still linting or asking the model; its tasks are stopped, it neither
-- stores nor publishes anything of the job). A drain is not a crash: the
-- next delivery (job_start.lua) then counts the same attempt again, so
-- rolling or scaling the workers never spends the deliveries
-- CODEINSIGHT_MAX_ATTEMPTS allows before a job is given up as a poison job.
-- Nor does the job wait out the visibility timeout, as a crashed worker's
-- entries must (that worker may only be cut off, still running them): the
-- entry stays pending, its payload in the stream, but is made as idle as
-- the timeout (XCLAIM ... IDLE, to this same consumer), so the next
-- XAUTOCLAIM of any worker takes it, and 'released <stream>' on the
-- workers' channel has the live ones run one now. Until one does, the job
-- is queued again (as a deferred job put back is: the live event
-- 'requeued'), not running on a worker that has stopped.
-- KEYS[1] job hash, KEYS[2] the stream. ARGV[1] the worker's consumer
-- name, ARGV[2] the attempt its job_start counted, ARGV[3] the consumer
-- group, ARGV[4] the entry id, ARGV[5] the visibility timeout in ms,
-- ARGV[6] the workers' channel, ARGV[7] the job TTL in seconds (its events').
-- Returns 1 when given back; 0, changing nothing, when the hash is not
-- that delivery's running job (finished, taken over, or gone).
local now = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'worker')
if now[1] ~= 'running' or now[2] ~= ARGV[2] or now[3] ~= ARGV[1] then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HSET', KEYS[1], 'status', 'queued')
local job_id = string.sub(KEYS[1], 5)
job_event(job_id, ARGV[7], 'requeued', cjson.encode({
  type = 'requeued', job_id = job_id, status = 'queued', at = iso_now()}))
redis.call('XCLAIM', KEYS[2], ARGV[3], ARGV[1], 0, ARGV[4], 'IDLE', ARGV[5], 'JUSTID')
redis.call('PUBLISH', ARGV[6], 'released ' .. KEYS[2])
return 1
