-- submit.lua: records a job's hot state and enqueues it, atomically, in one
-- round trip.
-- KEYS[1] job hash (job:<id>), KEYS[2] stream.
-- ARGV[1] hash TTL in seconds, then field/value pairs of the job.
-- The stream entry carries every field; the hash keeps the metadata only
-- (never the code), plus status and attempts. Returns the entry id.
local bulky = {file_content = true, diff = true, error_log = true, cursor_context = true}
local hash = {'status', 'queued', 'attempts', '0'}
local entry = {}
for i = 2, #ARGV, 2 do
  local k, v = ARGV[i], ARGV[i + 1]
  entry[#entry + 1] = k
  entry[#entry + 1] = v
  if not bulky[k] then
    hash[#hash + 1] = k
    hash[#hash + 1] = v
  end
end
redis.call('HSET', KEYS[1], unpack(hash))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return redis.call('XADD', KEYS[2], '*', unpack(entry))
