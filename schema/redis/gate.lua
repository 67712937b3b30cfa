-- gate.lua: admission of a non-submitting request: identity + token bucket.
-- KEYS[1] identity cache key. ARGV[1] route class ("read").
-- Returns {'ok', user_id, key_id, email, plan, limit, remaining, reset}, or
-- {'miss'} / {'revoked'} / {'limited', limit, remaining, reset, retry_after}.
local refused, id = gate(KEYS[1], ARGV[1])
if refused then return refused end
return {'ok', id.user_id, id.key_id or '', id.email or '', id.plan or '',
        id.rl[1], id.rl[2], id.rl[3]}
