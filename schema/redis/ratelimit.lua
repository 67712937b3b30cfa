-- ratelimit.lua: several buckets at once, for routes limited before any
-- identity exists (login: per client address and per email), one token
-- from each.
-- KEYS: bucket keys. ARGV: burst, per_min for each key, in order.
-- Returns {allowed, limit, remaining, reset, retry_after} of the tightest
-- bucket; allowed only when every bucket had a token.
local now = now_ms()
local out = {1, 0, 0, 0, 0}
local tightest = nil
for i = 1, #KEYS do
  local burst, per_min = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local ok, remaining, reset, retry = bucket_take(KEYS[i], burst, per_min, now)
  if ok == 0 then out[1] = 0 end
  if not tightest or remaining < tightest or retry > out[5] then
    tightest = remaining
    out[2], out[3], out[4] = burst, remaining, reset
    if retry > out[5] then out[5] = retry end
  end
end
return out
