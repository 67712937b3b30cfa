-- job_release.lua: a stopping worker gives back the delivery of a job it
-- leaves pending (SIGTERM, CODEINSIGHT_SHUTDOWN_GRACE passed while the job
-- was still linting or asking the model; its tasks are stopped, it neither
-- stores nor publishes anything of the job). A drain is not a crash: the
-- next delivery (job_start.lua) then counts the same attempt again, so
-- rolling or scaling the workers never spends the deliveries
-- CODEINSIGHT_MAX_ATTEMPTS allows before a job is given up as a poison job.
-- KEYS[1] job hash. ARGV[1] the worker's consumer name, ARGV[2] the attempt
-- its job_start counted.
-- Returns 1 when given back; 0, changing nothing, when the hash is not
-- that delivery's running job (finished, taken over, or gone).
local now = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'worker')
if now[1] ~= 'running' or now[2] ~= ARGV[2] or now[3] ~= ARGV[1] then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
return 1
