-- lib/budget.lua: prepended to every script at build time (see Makefile).
-- A job's settlement with its owner's monthly counter (budget:<user>:<month>,
-- docs/admission.md "Token budgets"): its reservation released, what it
-- used added. A counter that is gone (a new month, Redis lost it) is left
-- for the next admission to rebuild from the ledger. One rebuilt while the
-- job ran never held its reservation: 'reserved' is kept from going below
-- zero, which would loosen the budget for the rest of the month.

local function budget_settle(bkey, reserved, used)
  if redis.call('EXISTS', bkey) == 0 then return end
  if redis.call('HINCRBY', bkey, 'reserved', -reserved) < 0 then
    redis.call('HSET', bkey, 'reserved', '0')
  end
  if used ~= 0 then redis.call('HINCRBY', bkey, 'used', used) end
end
