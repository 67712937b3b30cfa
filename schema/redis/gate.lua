-- gate.lua: admission of a non-submitting request: identity + token bucket.
-- KEYS[1] identity cache key; KEYS[2], optional, the hash of a job the
-- request will read, returned with the admission: one round trip; KEYS[3],
-- optional, the stream whose entry ARGV[4] the job id names, read when the
-- hash is not there (lib/job_read.lua).
-- ARGV[1] route class ("read"), ARGV[2] tokens wanted (1, or a lease: up to
-- that many are taken when at least one is there), ARGV[3] '1' to get the
-- identity back (for the gateway's own copy).
-- Returns {'ok', user_id, key_id, email, plan, limit, remaining, reset,
-- the job's flat fields or nil, taken, identity HGETALL or nil, operator
-- ('1' or '0')}, or {'miss'} /
-- {'revoked'} / {'unknown'} / {'limited', limit, remaining, reset,
-- retry_after}. The caller checks ownership of what it read.
local refused, id = gate(KEYS[1], ARGV[1], tonumber(ARGV[2]) or 1)
if refused then return refused end
local read = false
if KEYS[2] then read = job_read(KEYS[2], KEYS[3], ARGV[4]) end
local flat = false
if ARGV[3] == '1' then flat = id.flat end
return {'ok', id.user_id, id.key_id or '', id.email or '', id.plan or '',
        id.rl[1], id.rl[2], id.rl[3], read, id.rl[5], flat, id.operator or '0'}
