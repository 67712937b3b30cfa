-- job_start.lua: marks a job running and counts the attempt. The job's hash
-- begins here: what the view shows of the stream entry is copied into it
-- (lib/job_read.lua), since admission wrote the entry only.
-- KEYS[1] job hash, KEYS[2] the stream. ARGV[1] TTL seconds, ARGV[2] the
-- entry id, then field/value pairs to set (started_at, pool, worker, ...).
-- Returns the attempt number.
-- Emits the live event 'running' (lib/events.lua).
local fields = job_entry_view(KEYS[2], ARGV[2]) or {}
fields[#fields + 1] = 'status'
fields[#fields + 1] = 'running'
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
local job_id = string.sub(KEYS[1], 5)
job_event(job_id, ARGV[1], 'running', cjson.encode({
  type = 'running', job_id = job_id, status = 'running',
  at = argv_field(3, 'started_at') or iso_now(), attempt = attempts,
  pool = argv_field(3, 'pool')}))
return attempts
