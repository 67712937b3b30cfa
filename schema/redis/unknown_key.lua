-- unknown_key.lua: API keys PostgreSQL does not know, counted per client
-- address (gateway/auth.c, before and after the identity query of a key
-- missing from the cache).
-- 'take': a key known in the last 24 h (its stale copy exists, written by
-- auth_fill.lua with every fill) passes and takes nothing, so a guesser
-- emptying an address's bucket does not lock out the keys in use there.
-- Any other key takes one token, held while PostgreSQL is asked, so
-- parallel lookups cannot outrun the bucket.
-- 'give': the key was found after all: its token goes back (never above
-- the burst). An unknown key keeps its token spent.
-- KEYS[1] the bucket (rl:ip:<addr>:unknown_key), KEYS[2] the key's stale
-- copy (stale:auth:key:<hash>). ARGV[1] burst, ARGV[2] per_min, ARGV[3]
-- 'take' or 'give'.
-- Returns {allowed, limit, remaining, reset, retry_after, taken}.
local burst, per_min = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
if ARGV[3] == 'give' then
  local _, _, reset = bucket_take(KEYS[1], burst, per_min, now, 0)   -- refilled to now
  local t = math.min(burst, tonumber(redis.call('HGET', KEYS[1], 't')) + 1)
  redis.call('HSET', KEYS[1], 't', tostring(t))
  return {1, burst, math.floor(t), reset, 0, 0}
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {1, burst, burst, 0, 0, 0} end
local ok, remaining, reset, retry, taken = bucket_take(KEYS[1], burst, per_min, now, 1)
return {ok, burst, remaining, reset, retry, taken}
