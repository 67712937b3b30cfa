-- job_heartbeat.lua: keeps a worker's stream entries fresh (their idle time
-- reset, as XCLAIM ... JUSTID does) so that no live worker reclaims them,
-- but only those still its own: an entry another consumer reclaimed while
-- this worker was cut off from Redis past the visibility timeout stays
-- with it (a bare XCLAIM would take it back, and two workers would run
-- the job to the end).
-- The hash of each job it still holds (job:<id>) gets the job TTL again:
-- a job that runs longer than the TTL (a slow model, retries, PostgreSQL
-- down while it persists) keeps its state, its events and its cancel, and
-- its place in its owner's index, jobs:<user> (lib/job_read.lua).
-- KEYS[1] the stream. ARGV[1] consumer group, ARGV[2] this consumer,
-- ARGV[3] the job TTL in seconds, then pairs: an entry id it holds and its
-- job id ('' when not known yet).
-- Returns the ids another consumer holds now (an entry no longer pending,
-- acknowledged meanwhile, is neither refreshed nor returned).
local claim, taken = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}, {}
for i = 4, #ARGV - 1, 2 do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] then
    if p[1][2] == ARGV[2] then
      claim[#claim + 1] = ARGV[i]
      if ARGV[i + 1] ~= '' and
          redis.call('EXPIRE', 'job:' .. ARGV[i + 1], tonumber(ARGV[3])) == 1 then
        job_index_keep(job_owner('job:' .. ARGV[i + 1]), ARGV[i + 1], tonumber(ARGV[3]))
      end
    else
      taken[#taken + 1] = ARGV[i]
    end
  end
end
if #claim > 5 then
  claim[#claim + 1] = 'JUSTID'     -- no delivery counted, no entry returned
  redis.call(unpack(claim))
end
return taken
