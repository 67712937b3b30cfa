-- admit.lua: the whole admission of submissions, in one round trip for a
-- batch of them: identity, submit bucket, idempotency, budget reservation,
-- stream entry (the queued job's hot copy), the caller's job index, for
-- each in turn.
-- Atomic across gateway replicas; a gateway sends what its callers
-- submitted while the previous batch ran (gateway/admit.h).
--
-- KEYS: two per admission, in order. ARGV[1] the job TTL in seconds and
-- ARGV[2] '1' when the result cache is shared across users (the same for
-- the whole batch), then per admission the count n of its arguments and
-- those n arguments. Returns one reply per admission, {'error', message}
-- for one that failed (the others stand). What several admissions of a
-- batch share is read and written once: an identity's revocation flag, a
-- budget counter (the reservations of the batch are added together at the
-- end), a caller's job index.
--
-- One admission: KEYS[1] identity cache key, KEYS[2] stream. ARGV[1]
-- month (YYYY-MM), ARGV[2] token estimate, ARGV[3] Idempotency-Key (''
-- none), ARGV[4] body digest, ARGV[5] ledger floor for a missing budget
-- counter ('' unknown), ARGV[6] the job id's draft (add_entry), ARGV[7]
-- result-cache digest ('' to skip the cache),
-- ARGV[8] user id when the gateway admitted the caller itself (its own
-- copy of the identity and a leased token, gateway/ident_cache.h; only the
-- Redis copy's presence and revocation are checked here), '' to read the
-- identity and take from the bucket here; ARGV[9] that user's
-- monthly budget; ARGV[10] tokens wanted from the bucket (1, or a lease);
-- ARGV[11] '1' to get the identity back;
-- ARGV[12] a mask, one '1' or '0' per name of FIELDS: which of them the
-- submission has; ARGV[13 ..] their values, in that order. The names are
-- the script's, so a call carries none of them (gateway/admit.c).
-- Its reply: {status, x, limit, remaining, reset, throttled, degraded, taken,
-- identity HGETALL or nil} with status 'ok' (x the job id), 'cached' (x
-- a finished identical job), 'replay' (x the first response's job id) or
-- 'conflict'; or {'need_budget', user_id}, or a gate refusal. limit,
-- remaining, reset and taken are 0 when the gateway admitted the caller.
-- Below, KEYS[k + i] and ARGV[a + i] are that admission's KEYS[i], ARGV[i].
--
-- A queued job is its stream entry alone: the job id names the entry
-- (common/job.h), GET /job/:id reads it while no worker has taken it
-- (lib/job_read.lua), and the worker writes the job's hash when it starts.
-- 'meta' holds the submission's small fields as one JSON object (type,
-- created_at, file_path, ...; common/job.h).
local FIELDS = {'meta', 'file_content', 'diff', 'error_log', 'files', 'run', 'spec'}
local TTL, SHARED = ARGV[1], ARGV[2] == '1'

-- name, value, name, value... of the fields mask says are present, from
-- FIELDS[i] on, the first one's value at ARGV[v]: as arguments, so that a
-- command's are never gathered into a table first.
local function present(mask, i, v)
  while i <= #mask and string.byte(mask, i) ~= 49 do i = i + 1 end   -- '1'
  if i > #mask then return end
  return FIELDS[i], ARGV[v], present(mask, i + 1, v + 1)
end

-- The optional members of a job's hash or entry: the reason it was
-- degraded, its result-cache key, then the fields present.
local function tail(reason, rk, mask, v)
  if reason then return 'degraded_reason', reason, tail(nil, rk, mask, v) end
  if rk then return 'result_key', rk, tail(nil, nil, mask, v) end
  return present(mask, 1, v)
end

-- The job's entry and the id naming it, "MMMMMMMM-MMMM-7FFF-TSSS-SSSRRRRRRRRR"
-- (common/job.h): the entry's milliseconds M and sequence number S, the
-- fraction F of that millisecond from Redis' clock (so that ids of both
-- streams sort in admission order), the draft's stream nibble T and random
-- bits R. F and R are kept in the entry (id_bits) for the worker
-- (job_id_of_entry). The entry is added at the millisecond F was read in;
-- when the stream is ahead of the clock (a clock stepped back) it is added
-- where Redis puts it, with F 0. Returns the job id and the entry id.
local function add_entry(stream, draft, ...)
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local rand = string.sub(draft, 28, 36)
  local bits = string.format('%03x', math.floor(tonumber(t[2]) % 1000 * 4096 / 1000)) .. rand
  local eid = redis.pcall('XADD', stream, string.format('%d', ms) .. '-*', 'id_bits', bits, ...)
  if type(eid) == 'table' then
    bits = '000' .. rand
    eid = redis.call('XADD', stream, '*', 'id_bits', bits, ...)
  end
  local dash = string.find(eid, '-', 1, true)
  local m = string.format('%012x', tonumber(string.sub(eid, 1, dash - 1)))
  local seq = string.format('%06x', tonumber(string.sub(eid, dash + 1)))
  if #seq > 6 then error('more than 2^24 entries in one millisecond') end
  return string.sub(m, 1, 8) .. '-' .. string.sub(m, 9, 12) .. '-7' .. string.sub(bits, 1, 3) ..
         '-' .. string.sub(draft, 20, 20) .. string.sub(seq, 1, 3) .. '-' .. string.sub(seq, 4, 6) ..
         rand, eid
end

local function admit(k, a, n, batch)
  local user, budget, rl, flat, id
  if ARGV[a + 8] ~= '' then
    -- Still one look at the Redis copy: a missing one is filled again from
    -- PostgreSQL (and its long-lived stale copy with it) as before, and a
    -- revocation whose message was missed still counts.
    local ikey = KEYS[k + 1]
    local revoked = batch.revoked[ikey]
    if revoked == nil then
      revoked = redis.call('HGET', ikey, 'revoked')
      batch.revoked[ikey] = revoked
    end
    if not revoked then return {'miss'} end
    if revoked == '1' then return {'revoked'} end
    user, budget, rl, flat = ARGV[a + 8], tonumber(ARGV[a + 9]) or 0, {0, 0, 0, 0, 0}, false
  else
    id = identity(KEYS[k + 1])
    if not id then return {'miss'} end
    if id.revoked == '1' then return {'revoked'} end
    user, budget, flat = id.user_id, tonumber(id.budget) or 0, false
    if ARGV[a + 11] == '1' then flat = id.flat end
  end
  local bkey = 'budget:' .. user .. ':' .. ARGV[a + 1]
  local counter = batch.budgets[bkey]
  if not counter then
    local c = redis.call('HMGET', bkey, 'used', 'reserved')
    if not c[1] and not c[2] then
      if ARGV[a + 5] == '' then return {'need_budget', user} end
      redis.call('HSET', bkey, 'used', ARGV[a + 5], 'reserved', '0')
      redis.call('EXPIRE', bkey, '3456000')       -- 40 days
      c = {ARGV[a + 5], '0'}
    end
    counter = {used = tonumber(c[1]) or 0, reserved = tonumber(c[2]) or 0, added = 0}
    batch.budgets[bkey] = counter
    batch.budget_keys[#batch.budget_keys + 1] = bkey
  end

  if id then
    local refused
    refused, id = take(id, 'submit', tonumber(ARGV[a + 10]) or 1)
    if refused then return refused end
    rl = id.rl
  end

  -- A finished identical submission answers at once; nothing is enqueued.
  local rkey = nil
  if ARGV[a + 7] ~= '' then
    local scope = user
    if SHARED then scope = 'shared' end
    rkey = 'rcache:' .. scope .. ':' .. ARGV[a + 7]
    local done = redis.call('GET', rkey)
    if done then return {'cached', done, rl[1], rl[2], rl[3], 0, 0, rl[5], flat} end
  end

  local ikey = nil
  if ARGV[a + 3] ~= '' then
    ikey = 'idem:' .. user .. ':' .. ARGV[a + 3]
    local prev = redis.call('HMGET', ikey, 'job_id', 'digest', 'throttled', 'degraded')
    if prev[1] then
      if prev[2] == ARGV[a + 4] then
        return {'replay', prev[1], rl[1], rl[2], rl[3], tonumber(prev[3]) or 0,
                tonumber(prev[4]) or 0, rl[5], flat}
      end
      return {'conflict', prev[1], rl[1], rl[2], rl[3], 0, 0, rl[5], flat}
    end
  end

  local total = counter.used + counter.reserved + tonumber(ARGV[a + 2])
  local throttled, degraded, take = '0', '0', ARGV[a + 2]
  if total > budget then
    degraded, take = '1', '0'
  elseif total * 100 >= budget * 90 then
    throttled = '1'
  end
  counter.reserved = counter.reserved + tonumber(take)
  counter.added = counter.added + tonumber(take)

  -- The job's entry, its optional members last (tail).
  local reason, rk = nil, nil
  if degraded == '1' then reason = 'budget_exhausted' end
  if rkey then rk = string.sub(rkey, 8) end
  local job_id = add_entry(KEYS[k + 2], ARGV[a + 6], 'user_id', user, 'month', ARGV[a + 1],
                           'reserved', take, 'throttled', throttled, 'degraded', degraded,
                           tail(reason, rk, ARGV[a + 12], a + 13))

  local index = batch.indexes[user]
  if not index then
    index = {trim = false, zadd = {'jobs:' .. user}}
    batch.indexes[user] = index
    batch.index_users[#batch.index_users + 1] = user
  end
  index.zadd[#index.zadd + 1] = '0'
  index.zadd[#index.zadd + 1] = job_id
  -- Kept to the newest 10000 ids; trimmed when a batch holds a job id whose
  -- last hex digits are 0 mod 64 (one submission in 64: they are random),
  -- so the index holds at most about 10063.
  if tonumber(string.sub(job_id, -2), 16) % 64 == 0 then index.trim = true end
  if ikey then
    redis.call('HSET', ikey, 'job_id', job_id, 'digest', ARGV[a + 4], 'throttled', throttled,
               'degraded', degraded)
    redis.call('EXPIRE', ikey, '86400')
  end
  return {'ok', job_id, rl[1], rl[2], rl[3], tonumber(throttled), tonumber(degraded), rl[5],
          flat}
end

local batch = {revoked = {}, budgets = {}, budget_keys = {}, indexes = {}, index_users = {}}
local replies, k, a = {}, 0, 2
for i = 1, #KEYS / 2 do
  local n = tonumber(ARGV[a + 1])
  local ok, reply = pcall(admit, k, a + 1, n, batch)
  if not ok then
    reply = {'error', type(reply) == 'table' and reply.err or tostring(reply)}
  end
  replies[i] = reply
  k, a = k + 2, a + 1 + n
end
for _, bkey in ipairs(batch.budget_keys) do
  local c = batch.budgets[bkey]
  if c.added > 0 then redis.call('HINCRBY', bkey, 'reserved', c.added) end
end
for _, user in ipairs(batch.index_users) do
  local index = batch.indexes[user]
  redis.call('ZADD', unpack(index.zadd))
  if index.trim then redis.call('ZREMRANGEBYRANK', index.zadd[1], 0, -10001) end
  redis.call('EXPIRE', index.zadd[1], TTL)
end
return replies
