-- admit.lua: the whole admission of a submission in one round trip:
-- identity, submit bucket, idempotency, budget reservation, job hot copy,
-- the caller's job index and the XADD. Atomic across gateway replicas.
-- KEYS[1] identity cache key, KEYS[2] job hash, KEYS[3] stream.
-- ARGV[1] month (YYYY-MM), ARGV[2] token estimate, ARGV[3] job TTL s,
-- ARGV[4] Idempotency-Key ('' none), ARGV[5] body digest, ARGV[6] ledger
-- floor for a missing budget counter ('' unknown), ARGV[7] job id,
-- ARGV[8] result-cache digest ('' to skip the cache), ARGV[9] '1' when the
-- result cache is shared across users, then field/value pairs of the job.
-- Returns {'ok', entry_id, limit, remaining, reset, throttled, degraded},
-- {'cached', job_id, limit, remaining, reset} (a finished identical job),
-- {'replay', job_id, limit, remaining, reset, throttled, degraded} (the
-- first response again), {'conflict', ...},
-- {'need_budget', user_id}, or a gate refusal.
local id = identity(KEYS[1])
if not id then return {'miss'} end
if id.revoked == '1' then return {'revoked'} end
local user = id.user_id
local bkey = 'budget:' .. user .. ':' .. ARGV[1]
local counter = redis.call('HMGET', bkey, 'used', 'reserved')
if not counter[1] and not counter[2] then
  if ARGV[6] == '' then return {'need_budget', user} end
  redis.call('HSET', bkey, 'used', ARGV[6], 'reserved', '0')
  redis.call('EXPIRE', bkey, 40 * 86400)
  counter = {ARGV[6], '0'}
end

local refused
refused, id = take(id, 'submit')   -- the identity read above, not a second HGETALL
if refused then return refused end
local rl = id.rl

-- A finished identical submission answers at once; nothing is enqueued.
local rkey = nil
if ARGV[8] ~= '' then
  local scope = user
  if ARGV[9] == '1' then scope = 'shared' end
  rkey = 'rcache:' .. scope .. ':' .. ARGV[8]
  local done = redis.call('GET', rkey)
  if done then return {'cached', done, rl[1], rl[2], rl[3]} end
end

local ikey = nil
if ARGV[4] ~= '' then
  ikey = 'idem:' .. user .. ':' .. ARGV[4]
  local prev = redis.call('HMGET', ikey, 'job_id', 'digest', 'throttled', 'degraded')
  if prev[1] then
    if prev[2] == ARGV[5] then
      return {'replay', prev[1], rl[1], rl[2], rl[3], tonumber(prev[3]) or 0,
              tonumber(prev[4]) or 0}
    end
    return {'conflict', prev[1], rl[1], rl[2], rl[3]}
  end
end

local used = tonumber(counter[1]) or 0
local reserved = tonumber(counter[2]) or 0
local budget = tonumber(id.budget) or 0
local est = tonumber(ARGV[2])
local throttled, degraded, take = 0, 0, est
if used + reserved + est > budget then
  degraded, take = 1, 0
elseif (used + reserved + est) * 100 >= budget * 90 then
  throttled = 1
end
if take > 0 then redis.call('HINCRBY', bkey, 'reserved', take) end

local ttl = tonumber(ARGV[3])
local bulky = {file_content = true, diff = true, error_log = true, cursor_context = true,
               files = true, run = true, spec = true}
local extra = {'user_id', user, 'month', ARGV[1], 'reserved', tostring(take),
               'throttled', tostring(throttled), 'degraded', tostring(degraded)}
if degraded == 1 then
  extra[#extra + 1] = 'degraded_reason'
  extra[#extra + 1] = 'budget_exhausted'
end
if rkey then
  extra[#extra + 1] = 'result_key'
  extra[#extra + 1] = string.sub(rkey, 8)
end
local hash = {'status', 'queued', 'attempts', '0'}
local entry = {}
for i = 10, #ARGV, 2 do
  entry[#entry + 1] = ARGV[i]
  entry[#entry + 1] = ARGV[i + 1]
  if not bulky[ARGV[i]] then
    hash[#hash + 1] = ARGV[i]
    hash[#hash + 1] = ARGV[i + 1]
  end
end
for i = 1, #extra do
  hash[#hash + 1] = extra[i]
  entry[#entry + 1] = extra[i]
end
redis.call('HSET', KEYS[2], unpack(hash))
redis.call('EXPIRE', KEYS[2], ttl)
local entry_id = redis.call('XADD', KEYS[3], '*', unpack(entry))

local index = 'jobs:' .. user
redis.call('ZADD', index, 0, ARGV[7])
-- Kept to the newest 10000 ids; trimmed on one submission in 64 (the job
-- id's last hex digits are random), so the index holds at most 10063.
if tonumber(string.sub(ARGV[7], -2), 16) % 64 == 0 then
  redis.call('ZREMRANGEBYRANK', index, 0, -10001)
end
redis.call('EXPIRE', index, ttl)
if ikey then
  redis.call('HSET', ikey, 'job_id', ARGV[7], 'digest', ARGV[5], 'throttled', throttled,
             'degraded', degraded)
  redis.call('EXPIRE', ikey, 86400)
end
return {'ok', entry_id, rl[1], rl[2], rl[3], throttled, degraded}
