-- lib/gate.lua: prepended to every script at build time (see Makefile).
-- Identity lookup and token buckets, shared by admit.lua and gate.lua.

-- Milliseconds from Redis' own clock, the same for every gateway replica.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Takes tokens from a bucket of capacity `burst` refilled at `per_min`: up
-- to `want` (default 1) when at least one is there, else none. A gateway
-- asks for more than one to lease them (gateway/ident_cache.h).
-- Returns allowed (1|0), remaining (whole tokens), reset (s until full),
-- retry_after (s until a token; 0 when allowed), taken.
local function bucket_take(key, burst, per_min, now, want)
  local rate = per_min / 60000.0
  local st = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(st[1]) or burst
  local ts = tonumber(st[2]) or now
  if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end
  local allowed, taken = 0, 0
  if tokens >= 1 then
    taken = math.min(want or 1, math.floor(tokens))
    tokens = tokens - taken
    allowed = 1
  end
  redis.call('HSET', key, 't', tostring(tokens), 'ts', tostring(now))
  local full_ms = math.ceil((burst - tokens) / rate)
  redis.call('PEXPIRE', key, full_ms + 1000)
  local retry = 0
  if allowed == 0 then retry = math.max(1, math.ceil((1 - tokens) / rate / 1000)) end
  return allowed, math.floor(tokens), math.ceil(full_ms / 1000), retry, taken
end

-- The cached identity as a table (its HGETALL reply as id.flat, for a
-- gateway's own copy), or nil on a cache miss.
local function identity(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local id = {flat = flat}
  for i = 1, #flat, 2 do id[flat[i]] = flat[i + 1] end
  return id
end

-- Takes up to `want` tokens from the identity's bucket for a route class.
-- Returns nil and the identity (with id.rl = {limit, remaining, reset,
-- retry, taken}) when admitted, else a reply table to return as is.
local function take(id, class, want)
  local who = id.key_id
  if not who or who == '' then who = id.user_id end
  local burst = tonumber(id[class .. '_burst'])
  local per_min = tonumber(id[class .. '_rate'])
  local ok, remaining, reset, retry, taken =
    bucket_take('rl:' .. who .. ':' .. class, burst, per_min, now_ms(), want)
  id.rl = {burst, remaining, reset, retry, taken}
  if ok == 0 then return {'limited', burst, remaining, reset, retry}, nil end
  return nil, id
end

-- Checks identity and the route class' bucket; as take(). 'unknown': the
-- cache holds PostgreSQL's answer that there is no such identity
-- (auth_fill.lua), so the caller is refused without asking it again.
local function gate(ident_key, class, want)
  local id = identity(ident_key)
  if not id then return {'miss'}, nil end
  if id.revoked == '1' then return {'revoked'}, nil end
  if id.unknown then return {'unknown'}, nil end
  return take(id, class, want)
end
