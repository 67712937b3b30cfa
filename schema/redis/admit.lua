-- admit.lua: the whole admission of a submission in one round trip:
-- identity, submit bucket, idempotency, budget reservation, job hot copy,
-- the caller's job index and the XADD. Atomic across gateway replicas.
-- KEYS[1] identity cache key, KEYS[2] job hash, KEYS[3] stream.
-- ARGV[1] month (YYYY-MM), ARGV[2] token estimate, ARGV[3] job TTL s,
-- ARGV[4] Idempotency-Key ('' none), ARGV[5] body digest, ARGV[6] ledger
-- floor for a missing budget counter ('' unknown), ARGV[7] job id,
-- ARGV[8] result-cache digest ('' to skip the cache), ARGV[9] '1' when the
-- result cache is shared across users,
-- ARGV[10] user id when the gateway admitted the caller itself (its own
-- copy of the identity and a leased token, gateway/ident_cache.h; only the
-- Redis copy's presence and revocation are checked here), '' to read the
-- identity and take from the bucket here; ARGV[11] that user's
-- monthly budget; ARGV[12] tokens wanted from the bucket (1, or a lease);
-- ARGV[13] '1' to get the identity back;
-- ARGV[14] n: ARGV[15 .. 14+n] are field/value pairs of both the job hash
-- and the stream entry, the rest pairs of the entry only (the bulky ones).
-- Returns {status, x, limit, remaining, reset, throttled, degraded, taken,
-- identity HGETALL or nil} with status 'ok' (x the entry id), 'cached' (x
-- a finished identical job), 'replay' (x the first response's job id) or
-- 'conflict'; or {'need_budget', user_id}, or a gate refusal. limit,
-- remaining, reset and taken are 0 when the gateway admitted the caller.
local user, budget, rl, flat, id
if ARGV[10] ~= '' then
  -- Still one look at the Redis copy: a missing one is filled again from
  -- PostgreSQL (and its long-lived stale copy with it) as before, and a
  -- revocation whose message was missed still counts.
  local revoked = redis.call('HGET', KEYS[1], 'revoked')
  if not revoked then return {'miss'} end
  if revoked == '1' then return {'revoked'} end
  user, budget, rl, flat = ARGV[10], tonumber(ARGV[11]) or 0, {0, 0, 0, 0, 0}, false
else
  id = identity(KEYS[1])
  if not id then return {'miss'} end
  if id.revoked == '1' then return {'revoked'} end
  user, budget, flat = id.user_id, tonumber(id.budget) or 0, false
  if ARGV[13] == '1' then flat = id.flat end
end
local bkey = 'budget:' .. user .. ':' .. ARGV[1]
local counter = redis.call('HMGET', bkey, 'used', 'reserved')
if not counter[1] and not counter[2] then
  if ARGV[6] == '' then return {'need_budget', user} end
  redis.call('HSET', bkey, 'used', ARGV[6], 'reserved', '0')
  redis.call('EXPIRE', bkey, 40 * 86400)
  counter = {ARGV[6], '0'}
end

if id then
  local refused
  refused, id = take(id, 'submit', tonumber(ARGV[12]) or 1)
  if refused then return refused end
  rl = id.rl
end

-- A finished identical submission answers at once; nothing is enqueued.
local rkey = nil
if ARGV[8] ~= '' then
  local scope = user
  if ARGV[9] == '1' then scope = 'shared' end
  rkey = 'rcache:' .. scope .. ':' .. ARGV[8]
  local done = redis.call('GET', rkey)
  if done then return {'cached', done, rl[1], rl[2], rl[3], 0, 0, rl[5], flat} end
end

local ikey = nil
if ARGV[4] ~= '' then
  ikey = 'idem:' .. user .. ':' .. ARGV[4]
  local prev = redis.call('HMGET', ikey, 'job_id', 'digest', 'throttled', 'degraded')
  if prev[1] then
    if prev[2] == ARGV[5] then
      return {'replay', prev[1], rl[1], rl[2], rl[3], tonumber(prev[3]) or 0,
              tonumber(prev[4]) or 0, rl[5], flat}
    end
    return {'conflict', prev[1], rl[1], rl[2], rl[3], 0, 0, rl[5], flat}
  end
end

local used = tonumber(counter[1]) or 0
local reserved = tonumber(counter[2]) or 0
local est = tonumber(ARGV[2])
local throttled, degraded, take = 0, 0, est
if used + reserved + est > budget then
  degraded, take = 1, 0
elseif (used + reserved + est) * 100 >= budget * 90 then
  throttled = 1
end
if take > 0 then redis.call('HINCRBY', bkey, 'reserved', take) end

-- The fields this script decides, then the gateway's: those of both the
-- hash and the entry, then the entry's own (unpack() expands only at the
-- end of an argument list).
local ttl = tonumber(ARGV[3])
local shared_end = 14 + tonumber(ARGV[14])
local mine = {'user_id', user, 'month', ARGV[1], 'reserved', tostring(take),
              'throttled', tostring(throttled), 'degraded', tostring(degraded)}
if degraded == 1 then
  mine[#mine + 1] = 'degraded_reason'
  mine[#mine + 1] = 'budget_exhausted'
end
if rkey then
  mine[#mine + 1] = 'result_key'
  mine[#mine + 1] = string.sub(rkey, 8)
end
for i = 15, shared_end do mine[#mine + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], 'status', 'queued', 'attempts', '0', unpack(mine))
redis.call('EXPIRE', KEYS[2], ttl)
for i = shared_end + 1, #ARGV do mine[#mine + 1] = ARGV[i] end
local entry_id = redis.call('XADD', KEYS[3], '*', unpack(mine))

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
return {'ok', entry_id, rl[1], rl[2], rl[3], throttled, degraded, rl[5], flat}
