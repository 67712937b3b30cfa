-- gate.lua: admission of a non-submitting request: identity + token bucket.
-- KEYS[1] identity cache key; KEYS[2], optional, a hash the request will
-- read (a job's hot copy), returned with the admission: one round trip.
-- ARGV[1] route class ("read").
-- Returns {'ok', user_id, key_id, email, plan, limit, remaining, reset
-- [, HGETALL of KEYS[2]]}, or {'miss'} / {'revoked'} / {'limited', limit,
-- remaining, reset, retry_after}. The caller checks ownership of what it read.
local refused, id = gate(KEYS[1], ARGV[1])
if refused then return refused end
local ok = {'ok', id.user_id, id.key_id or '', id.email or '', id.plan or '',
            id.rl[1], id.rl[2], id.rl[3]}
if KEYS[2] then ok[9] = redis.call('HGETALL', KEYS[2]) end
return ok
