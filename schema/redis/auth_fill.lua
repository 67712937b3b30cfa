-- auth_fill.lua: what PostgreSQL said about an identity after a cache
-- miss, written into the Redis identity cache (gateway/auth.c,
-- auth_fill_cache): the identity, with its long-lived copy, or that there
-- is no such identity.
-- KEYS[1] the cache key (auth:key:<hash>, auth:user:<id>, auth:ext:<hash>),
-- KEYS[2] its copy for PostgreSQL outages (stale:<KEYS[1]>).
-- ARGV[1] TTL of KEYS[1] (s), ARGV[2] TTL of KEYS[2] (s), ARGV[3..] the
-- identity's field/value pairs, 'revoked' among them.
-- Without fields, PostgreSQL knows no such identity: KEYS[1] becomes
-- {unknown = 1} for ARGV[1] seconds (the scripts' gate answers 'unknown'
-- without asking PostgreSQL again) unless it exists by now; KEYS[2] is not
-- touched.
-- DELETE /keys/:id updates PostgreSQL, then sets revoked=1 in both hashes;
-- a fill that read PostgreSQL before the update may come after it, with
-- revoked=0. So a revocation already in either hash is kept: a fill never
-- turns revoked=1 back into 0 (a key is never un-revoked).
-- Returns 1 when a revocation was kept (or the negative answer was not
-- written), else 0.
if #ARGV == 2 then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
  redis.call('HSET', KEYS[1], 'unknown', '1')
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return 0
end
local revoked = redis.call('HGET', KEYS[1], 'revoked') == '1' or
                redis.call('HGET', KEYS[2], 'revoked') == '1'
for i, key in ipairs(KEYS) do
  redis.call('HDEL', key, 'unknown')
  redis.call('HSET', key, unpack(ARGV, 3))
  if revoked then redis.call('HSET', key, 'revoked', '1') end
  redis.call('EXPIRE', key, ARGV[i])
end
if revoked then return 1 end
return 0
