-- admit.lua: the whole admission of submissions, in one round trip for a
-- batch of them: identity, submit bucket, idempotency, budget reservation,
-- stream entry (the queued job's hot copy), the caller's job index, for
-- each in turn.
-- Atomic across gateway replicas; a gateway sends what its callers
-- submitted while the previous batch ran (gateway/admit.h).
--
-- KEYS: two per admission, in order. ARGV[1] the job TTL in seconds,
-- ARGV[2] '1' when the result cache is shared across users and ARGV[3] the
-- entries a stream may hold, CODEINSIGHT_QUEUE_MAX ('0': no cap) (the same
-- for the whole batch), then per admission the count n of its arguments and
-- those n arguments. Returns one reply per admission, {'error', message}
-- for one that failed (the others stand). What several admissions of a
-- batch share is read and written once: an identity's revocation flag, a
-- budget counter (the reservations of the batch are added together at the
-- end), a caller's job index.
--
-- One admission: KEYS[1] identity cache key, KEYS[2] stream. ARGV[1]
-- month (YYYY-MM), ARGV[2] token estimate, ARGV[3] Idempotency-Key (''
-- none), ARGV[4] body digest, ARGV[5] ledger floor for a missing or stale
-- budget counter ('' unknown), ARGV[6] the job id's draft (add_entry), ARGV[7]
-- result-cache digest ('' to skip the cache, and with it a key's record
-- of a cache hit; '!' then the digest: no lookup, the job's result is the
-- entry's next (Cache-Control: no-cache); '-' then the digest: no lookup,
-- and the result is not stored (no-store)),
-- ARGV[8] user id when the gateway admitted the caller itself (its own
-- copy of the identity and a leased token, gateway/ident_cache.h; only the
-- Redis copy's presence and revocation are checked here), '' to read the
-- identity and take from the bucket here; ARGV[9] that user's
-- monthly budget; ARGV[10] tokens wanted from the bucket (1, or a lease);
-- ARGV[11] '1' to get the identity back;
-- ARGV[12] a mask, one '1' or '0' per name of FIELDS: which of them the
-- submission has; ARGV[13 ..] their values, in that order, meta without
-- its opening brace ('"type":"review",...}', or '}'). The names are the
-- script's, so a call carries none of them (gateway/admit.c).
-- Its reply: {status, x, limit, remaining, reset, throttled, degraded, taken,
-- identity HGETALL or nil} with status 'ok' (x the job id), 'cached' (x
-- a finished identical job), 'replay' (x the first response's job id),
-- 'replay_cached' (x the finished job the key's first answer was, from the
-- result cache), 'conflict' or 'queue_full' (x the stream: it holds
-- ARGV[3] entries, nothing was queued or reserved); a 'cached' and a 'replay_cached' reply end
-- with the caller's user id (with a shared cache the job may be another
-- user's, whose identifiers the gateway then leaves out of its answer);
-- or {'need_budget', user_id}, or a gate
-- refusal. limit, remaining, reset and taken are 0 when the gateway
-- admitted the caller, and an 'ok' is then sent as one string,
-- "<job id><throttled><degraded>".
-- Below, KEYS[k + i] and ARGV[a + i] are that admission's KEYS[i], ARGV[i].
--
-- A queued job is its stream entry alone: the job id names the entry
-- (common/job.h), GET /job/:id reads it while no worker has taken it
-- (lib/job_read.lua), and the worker writes the job's hash when it starts.
-- 'meta' holds the admission's members (user_id, month, reserved, ...,
-- id_bits) and the submission's small fields (type, created_at, file_path,
-- ...) as one JSON object (common/job.h, meta_head).
local FIELDS = {'meta', 'file_content', 'diff', 'error_log', 'files', 'run', 'spec'}
local TTL, SHARED, QUEUE_MAX = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])

-- name, value, name, value... of the fields mask says are present, from
-- FIELDS[i] on, the first one's value at ARGV[v]: as arguments, so that a
-- command's are never gathered into a table first.
local function present(mask, i, v)
  while i <= #mask and string.byte(mask, i) ~= 49 do i = i + 1 end   -- '1'
  if i > #mask then return end
  return FIELDS[i], ARGV[v], present(mask, i + 1, v + 1)
end

-- The entry's meta (common/job.h) begins with the admission's own members
-- (all but id_bits, which add_entry puts next): user_id, month, reserved,
-- throttled, degraded, then degraded_reason and result_key when there are.
-- The values are the gateway's and this script's (ids, digits, hex), none
-- needing a JSON escape. One entry field instead of eight: Redis pays for
-- each field, in the script, the stream and the AOF.
local function meta_head(user, month, take, throttled, degraded, reason, rk)
  local head = '{"user_id":"' .. user .. '","month":"' .. month .. '","reserved":"' .. take ..
               '","throttled":"' .. throttled .. '","degraded":"' .. degraded .. '"'
  if reason then head = head .. ',"degraded_reason":"' .. reason .. '"' end
  if rk then head = head .. ',"result_key":"' .. rk .. '"' end
  return head
end

-- The submission's own meta members, after the admission's: mask's first
-- field (its value at ARGV[v], without the opening brace), or '}'. Then
-- the value index of the mask's next field.
local function meta_rest(mask, v)
  if string.byte(mask, 1) ~= 49 then return '}', v end        -- no meta sent
  return ARGV[v], v + 1
end

-- "MMMMMMMM-MMMM-7" of a job id whose entry is in millisecond ms.
local function id_prefix(ms)
  return string.format('%08x-%04x-7', math.floor(ms / 65536), ms % 65536)
end

-- Redis' clock, read once per batch: the admission the batch makes after i
-- others takes the fraction F0 + i of the batch's millisecond (F in 1/4096
-- ms). Ids then keep admission order within a batch, across both streams,
-- and across batches: an admission takes far longer than 1/4096 ms, so the
-- next batch reads a later fraction than this one handed out. When the
-- fractions run out, the clock is read again; still in the same
-- millisecond, the rest of it shares the last fraction.
local clock = {f = 4096}
local function tick()
  if clock.f > 4095 then
    local t = redis.call('TIME')
    local us = tonumber(t[2])
    local part = us % 1000
    local ms = tonumber(t[1]) * 1000 + (us - part) / 1000
    local f = math.floor(part * 4096 / 1000)
    if ms == clock.ms then f = 4095 end
    local at = string.format('%d-', ms)
    clock = {ms = ms, f = f, at = at, next = at .. '*', id = id_prefix(ms)}
  end
  clock.f = clock.f + 1
  return clock.f - 1
end

-- The job's entry and the id naming it, "MMMMMMMM-MMMM-7FFF-TSSS-SSSRRRRRRRRR"
-- (common/job.h): the entry's milliseconds M and sequence number S, the
-- fraction F of that millisecond (tick), the draft's stream nibble T and
-- random bits R. F and R are kept in the entry (id_bits) for the worker
-- (job_id_of_entry). The entry is added at the clock's millisecond; when
-- the stream is ahead of it (a clock stepped back) it is added where Redis
-- puts it, with F 0. Returns the job id.
local function add_entry(stream, draft, head, rest, ...)
  local rand, fx, sep = string.sub(draft, 28, 36), string.format('%03x', tick()), '",'
  if rest == '}' then sep = '"' end
  local prefix, at = clock.id, clock.at
  local eid = redis.pcall('XADD', stream, clock.next, 'meta',
                          head .. ',"id_bits":"' .. fx .. rand .. sep .. rest, ...)
  if type(eid) == 'table' then
    fx = '000'
    eid = redis.call('XADD', stream, '*', 'meta', head .. ',"id_bits":"000' .. rand .. sep .. rest,
                     ...)
    at = string.match(eid, '^%d+%-')
    prefix = id_prefix(tonumber(string.sub(at, 1, -2)))
  end
  local seq = tonumber(string.sub(eid, #at + 1))
  if seq >= 16777216 then error('more than 2^24 entries in one millisecond') end
  return string.format('%s%s-%s%03x-%03x%s', prefix, fx, string.sub(draft, 20, 20),
                       math.floor(seq / 4096), seq % 4096, rand)
end

-- The result-cache key of digest for user (or shared by all users).
local function result_key(user, digest)
  if SHARED then return 'rcache:shared:' .. digest end
  return 'rcache:' .. user .. ':' .. digest
end

-- The finished job a result-cache entry names, or nil when the workers of
-- stream's pool would not answer the same now. An entry is "<job id>
-- <answer version>" (common/job.h): what the worker's answers depend on and
-- the gateway cannot see (its model, prompts, input limit, linters). It
-- answers only while its version is among those the pool's workers last
-- published in answers:<stream> (read once per batch, and only for an
-- admission that has an entry): not after a model key, a prompt version or
-- such a setting changed, nor while no worker has published (an entry of
-- a worker older than answer versions has none either). The stale entry is
-- left to be overwritten by the job admitted instead.
-- The result-cache digest of ARGV[7] (d), whether to look it up, and
-- whether the job's result is to be stored under it.
local function cache_arg(d)
  local mode = string.sub(d, 1, 1)
  if mode == '!' then return string.sub(d, 2), false, true end
  if mode == '-' then return string.sub(d, 2), false, false end
  return d, d ~= '', true
end

local function cached_job(entry, stream, batch)
  if not entry then return nil end
  local job, version = string.match(entry, '^(%S+) (%x+)$')
  if not job then return nil end
  local current = batch.answers[stream]
  if current == nil then
    current = redis.call('GET', 'answers:' .. stream)
    batch.answers[stream] = current
  end
  if not current or not string.find(' ' .. current .. ' ', ' ' .. version .. ' ', 1, true) then
    return nil
  end
  return job
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
    if id.unknown then return {'unknown'} end
    user, budget, flat = id.user_id, tonumber(id.budget) or 0, false
    if ARGV[a + 11] == '1' then flat = id.flat end
  end
  local bkey = 'budget:' .. user .. ':' .. ARGV[a + 1]
  local counter = batch.budgets[bkey]
  if not counter then
    local c = redis.call('HMGET', bkey, 'used', 'reserved', 'stale')
    if c[3] or (not c[1] and not c[2]) then
      -- Missing: rebuilt from the ledger; stale: 'used' read from it again
      -- (lib/budget.lua).
      if ARGV[a + 5] == '' then return {'need_budget', user} end
      if c[3] then
        redis.call('HSET', bkey, 'used', ARGV[a + 5])
        redis.call('HDEL', bkey, 'stale')
      else
        redis.call('HSET', bkey, 'used', ARGV[a + 5], 'reserved', '0', 'since', now_ms())
        redis.call('EXPIRE', bkey, '3456000')       -- 40 days
        c[2] = '0'
      end
      c[1] = ARGV[a + 5]
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

  -- The key is looked at before the result cache: what a key answered
  -- first (a job, or a cache hit) is what it answers again, and another
  -- body under it is a conflict, whatever the cache now holds.
  local ikey = nil
  if ARGV[a + 3] ~= '' then
    ikey = 'idem:' .. user .. ':' .. ARGV[a + 3]
    local prev = redis.call('HMGET', ikey, 'job_id', 'digest', 'throttled', 'degraded', 'cached')
    if prev[1] and prev[2] ~= ARGV[a + 4] then
      return {'conflict', prev[1], rl[1], rl[2], rl[3], 0, 0, rl[5], flat}
    elseif prev[5] == '1' then
      if ARGV[a + 7] ~= '' then
        return {'replay_cached', prev[1], rl[1], rl[2], rl[3], 0, 0, rl[5], flat, user}
      end
      -- The gateway found the cached job gone and skips the cache: the key
      -- is free for the job admitted below.
      redis.call('DEL', ikey)
    elseif prev[1] then
      return {'replay', prev[1], rl[1], rl[2], rl[3], tonumber(prev[3]) or 0,
              tonumber(prev[4]) or 0, rl[5], flat}
    end
  end

  -- A finished identical submission answers at once; nothing is enqueued.
  local rdigest, lookup, store = cache_arg(ARGV[a + 7])
  local rkey, done = batch.rkeys[a], batch.done[a]
  if not rkey and rdigest ~= '' then
    rkey = result_key(user, rdigest)
    if lookup then done = redis.call('GET', rkey) end
  end
  done = cached_job(done, KEYS[k + 2], batch)
  if done then
    if ikey then
      redis.call('HSET', ikey, 'job_id', done, 'digest', ARGV[a + 4], 'cached', '1')
      redis.call('EXPIRE', ikey, '86400')
    end
    return {'cached', done, rl[1], rl[2], rl[3], 0, 0, rl[5], flat, user}
  end

  local total = counter.used + counter.reserved + tonumber(ARGV[a + 2])
  local throttled, degraded, take = '0', '0', ARGV[a + 2]
  if total > budget then
    degraded, take = '1', '0'
  elseif total * 100 >= budget * 90 then
    throttled = '1'
  end

  -- A stream at QUEUE_MAX takes no more: its workers are down or far
  -- behind, and its entries (code included) would fill Redis. Answers from
  -- the result cache and replays above still stand.
  local stream, queued = KEYS[k + 2], nil
  if QUEUE_MAX > 0 then
    queued = batch.lengths[stream] or redis.call('XLEN', stream)
    batch.lengths[stream] = queued
    if queued >= QUEUE_MAX then
      return {'queue_full', stream, rl[1], rl[2], rl[3], 0, 0, rl[5], flat}
    end
  end

  -- The job's entry: meta, then the code and the other fields present.
  local reason, rk = nil, nil
  if degraded == '1' then reason = 'budget_exhausted' end
  if rkey and store then rk = string.sub(rkey, 8) end
  local mask = ARGV[a + 12]
  local rest, v = meta_rest(mask, a + 13)
  local job_id = add_entry(KEYS[k + 2], ARGV[a + 6],
                           meta_head(user, ARGV[a + 1], take, throttled, degraded, reason, rk),
                           rest, present(mask, 2, v))
  -- Counted once the entry exists: an XADD that raised leaves no job, so
  -- nothing of this admission may reach the batch's HINCRBY.
  if queued then batch.lengths[stream] = queued + 1 end
  counter.reserved = counter.reserved + tonumber(take)
  counter.added = counter.added + tonumber(take)

  local index = batch.indexes[user]
  if not index then
    index = {'jobs:' .. user}
    batch.indexes[user] = index
    batch.index_users[#batch.index_users + 1] = user
  end
  local len = index.n or 1
  index[len + 1], index[len + 2], index.n = '0', job_id, len + 2
  if ikey then
    redis.call('HSET', ikey, 'job_id', job_id, 'digest', ARGV[a + 4], 'throttled', throttled,
               'degraded', degraded)
    redis.call('EXPIRE', ikey, '86400')
  end
  -- When the gateway admitted the caller (nothing taken from the bucket
  -- here, no identity asked for), the reply is one string: the job id, then
  -- the throttled and degraded digits. A table costs Redis far more to turn
  -- into its reply; gateway/admit.c reads the string as that table.
  if not id then return job_id .. throttled .. degraded end
  return {'ok', job_id, rl[1], rl[2], rl[3], tonumber(throttled), tonumber(degraded), rl[5],
          flat}
end

local batch = {revoked = {}, budgets = {}, budget_keys = {}, indexes = {}, index_users = {},
               rkeys = {}, done = {}, answers = {}, lengths = {}}
local replies, k, a = {}, 0, 3
-- The result-cache entries of the admissions whose user the gateway named
-- (or with a shared cache) are read with one MGET; the others' in admit().
local mget, at, m = {}, {}, 0
for i = 1, #KEYS / 2 do
  local s = a + 1                   -- admit()'s a: ARGV[s + 7] digest, ARGV[s + 8] user
  local rdigest, lookup = cache_arg(ARGV[s + 7])
  if lookup and (SHARED or ARGV[s + 8] ~= '') then
    m = m + 1
    mget[m], at[m] = result_key(ARGV[s + 8], rdigest), s
  end
  a = s + tonumber(ARGV[s])
end
if m > 0 then
  local got = redis.call('MGET', unpack(mget, 1, m))
  for j = 1, m do batch.rkeys[at[j]], batch.done[at[j]] = mget[j], got[j] end
end
a = 3
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
-- Each index is kept to the newest 10000 ids, for the job TTL at least:
-- never less, since job_defer.lua gives it longer while it lists a parked
-- job (-1, no expiry yet, when ZADD has just made it).
for _, user in ipairs(batch.index_users) do
  local index = batch.indexes[user]
  redis.call('ZADD', unpack(index, 1, index.n))
  redis.call('ZREMRANGEBYRANK', index[1], 0, -10001)
  if redis.call('TTL', index[1]) < tonumber(TTL) then redis.call('EXPIRE', index[1], TTL) end
end
return replies
