-- lib/budget.lua: prepended to every script at build time (see Makefile).
-- A job's settlement with its owner's monthly counter (budget:<user>:<month>,
-- docs/admission.md "Token budgets"): its reservation released, what it
-- used added, once per job (the callers' 'charged' guard).
--
-- A counter that is gone (a new month, Redis lost it) is left for the next
-- admission to rebuild from the ledger; admit.lua stamps a counter it makes
-- with 'since' (Redis' clock, ms). A job admitted before that (its stream
-- entry's id is Redis' clock at its admission) was reserved in a counter
-- since lost: the new one holds none of its reservation, and may or may not
-- hold its charge, which the worker saved to the ledger before settling,
-- before or after the rebuild. So nothing is released, and rather than
-- added, 'used' is marked 'stale': the next admission (and GET /whoami)
-- reads it from the ledger again, which holds that charge by then.
-- 'reserved' never goes below zero (a counter from before 'since' existed).

-- entry_id: the job's stream entry id, or nil when unknown.
local function budget_settle(bkey, reserved, used, entry_id)
  local c = redis.call('HMGET', bkey, 'reserved', 'since')
  if not c[1] then return end
  local admitted = entry_id and tonumber(string.match(entry_id, '^(%d+)%-'))
  if c[2] and admitted and admitted < tonumber(c[2]) then
    if used ~= 0 then redis.call('HSET', bkey, 'stale', '1') end
    return
  end
  if redis.call('HINCRBY', bkey, 'reserved', -reserved) < 0 then
    redis.call('HSET', bkey, 'reserved', '0')
  end
  if used ~= 0 then redis.call('HINCRBY', bkey, 'used', used) end
end
