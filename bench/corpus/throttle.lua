-- throttle.lua - per-client request throttling for the nginx/OpenResty
-- front: a sliding window counter in a shared dict.
local _M = {}

local dict = ngx.shared.throttle
local WINDOW = 60

function _M.key(client)
  return "t:" .. client .. ":" .. math.floor(ngx.now() / WINDOW)
end

-- Returns allowed (bool), current count and seconds until the window ends.
function _M.check(client, limit)
  local now = ngx.now()
  local window_start = math.floor(now / WINDOW) * WINDOW
  local cur_key = "t:" .. client .. ":" .. window_start
  local prev_key = "t:" .. client .. ":" .. (window_start - WINDOW)

  local cur, err = dict:incr(cur_key, 1, 0, WINDOW * 2)
  if not cur then
    ngx.log(ngx.ERR, "throttle: incr failed: ", err)
    return true, 0, 0 -- fail open
  end
  local prev = dict:get(prev_key) or 0
  local weight = (WINDOW - (now - window_start)) / WINDOW
  local count = prev * weight + cur

  if count > limit then
    return false, count, window_start + WINDOW - now
  end
  return true, count, window_start + WINDOW - now
end

function _M.enforce(limit)
  local client = ngx.var.http_x_forwarded_for or ngx.var.remote_addr
  local ok, count, reset = _M.check(client, limit)
  ngx.header["X-RateLimit-Limit"] = limit
  ngx.header["X-RateLimit-Remaining"] = math.max(0, math.floor(limit - count))
  if not ok then
    ngx.header["Retry-After"] = math.ceil(reset)
    return ngx.exit(429)
  end
end

-- Forgets a client's counters (after an operator unblocks it).
function _M.reset(client)
  local window_start = math.floor(ngx.now() / WINDOW) * WINDOW
  dict:delete("t:" .. client .. ":" .. window_start)
  dict:delete("t:" .. client .. ":" .. (window_start - WINDOW))
end

return _M
