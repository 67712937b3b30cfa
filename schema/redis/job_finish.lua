-- job_finish.lua: publishes a finished job's hot copy, reconciles its token
-- reservation once, and retires its stream entry, atomically: the entry is
-- acknowledged only together with the result.
-- KEYS[1] job hash, KEYS[2] stream, KEYS[3] (optional) budget counter.
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] TTL seconds,
-- ARGV[4] tokens reserved at admission, ARGV[5] tokens actually used,
-- ARGV[6] dead-letter stream ('' when the job is not given up on),
-- ARGV[7] job id, then field/value pairs (status, finished_at, attempts,
-- worker, result, ...).
-- Returns the number of entries acknowledged (0 when it was not pending),
-- or -1, changing nothing, when this result is superseded: a later delivery
-- of the job has started (the hash counts more attempts than this one's:
-- another worker reclaimed the entry from this one, cut off from Redis
-- past the visibility timeout), or another worker has finished this same
-- delivery (a cancel caught it on the worker that took it over). Whichever
-- result PostgreSQL accepted (ci_job_save) is the one published: the same
-- rule decides there. The same worker finishing the same delivery again (a
-- retry after a lost reply) only retires the entry: nothing is published,
-- charged or dead-lettered twice.
-- An acknowledged entry also counts in stats:done:<stream>:<epoch minute>
-- (kept an hour), the completion rate GET /queue/info reports.
-- Emits the live event 'done', 'failed' or 'cancelled' (the status;
-- lib/events.lua).
local mine = tonumber(argv_field(8, 'attempts') or '0')
local now = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'worker')
local was, cur = now[1], tonumber(now[2] or '0')
local final = was == 'done' or was == 'failed' or was == 'cancelled'
if cur > mine or (cur == mine and final and now[3] ~= argv_field(8, 'worker')) then
  return -1
end
if final then
  -- This worker's own finish again (its reply was lost): the result, the
  -- events, the charge and a dead letter are there already; only make
  -- sure the entry is retired.
  local acked = redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return acked
end
local fields = {}
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
local status = argv_field(8, 'status')
if status == 'done' or status == 'failed' or status == 'cancelled' then
  local err = argv_field(8, 'error')
  job_event(ARGV[7], ARGV[3], status, cjson.encode({
    type = status, job_id = ARGV[7], status = status,
    at = argv_field(8, 'finished_at') or iso_now(),
    error = (status == 'failed' and err ~= '') and err or nil}))
end
-- 'charged' makes the reconciliation happen once, however often a job runs.
if KEYS[3] and redis.call('HSETNX', KEYS[1], 'charged', '1') == 1 then
  budget_settle(KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[2])
end
if ARGV[6] ~= '' then
  -- Given up after too many deliveries: keep a record for the operators.
  local attempts = redis.call('HGET', KEYS[1], 'attempts') or '0'
  local err = redis.call('HGET', KEYS[1], 'error') or ''
  redis.call('XADD', ARGV[6], 'MAXLEN', '~', '100000', '*', 'job_id', ARGV[7],
             'entry_id', ARGV[2], 'attempts', attempts, 'reason', err)
end
local acked = redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if acked == 1 then
  -- Completions per stream and minute, for the drain rate (queue_info.lua).
  local skey = 'stats:done:' .. KEYS[2] .. ':' .. math.floor(now_ms() / 60000)
  redis.call('INCR', skey)
  redis.call('EXPIRE', skey, 3600)
end
return acked
