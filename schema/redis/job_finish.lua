-- job_finish.lua: publishes a finished job's hot copy and retires its stream
-- entry, atomically: the entry is acknowledged only together with the result.
-- KEYS[1] job hash, KEYS[2] stream.
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] TTL seconds, then
-- field/value pairs (status, finished_at, result, error, ...).
-- Returns the number of entries acknowledged (0 when it was not pending).
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
local acked = redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return acked
