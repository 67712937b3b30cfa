-- key_revoke.lua: an API key PostgreSQL has just revoked, told to Redis
-- (gateway/key_revoke.c: DELETE /keys/:id and codeinsight-admin key-revoke).
-- The identity cache entry and its long-lived copy for PostgreSQL outages
-- both say revoked=1, created when absent: a copy restored during an outage
-- (auth.c, cache_restore_stale) is then refused too, and a later fill keeps
-- the revocation (auth_fill.lua). The cache key is published on the channel
-- every gateway subscribes to, so each drops its own copy at once.
-- KEYS[1] auth:key:<hash>, KEYS[2] stale:<KEYS[1]>.
-- ARGV[1] TTL of KEYS[1] (s), ARGV[2] TTL of KEYS[2] (s), ARGV[3] the channel.
-- Returns the number of subscribers that received the message.
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'revoked', '1')
  redis.call('EXPIRE', key, ARGV[i])
end
return redis.call('PUBLISH', ARGV[3], KEYS[1])
