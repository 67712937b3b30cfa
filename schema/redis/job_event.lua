-- job_event.lua: one pipeline step of a job (linted, model_called, ...) as a
-- live event (lib/events.lua). Sent without waiting for the reply.
-- KEYS[1] job hash. ARGV[1] TTL seconds, ARGV[2] event type, ARGV[3] the
-- event's JSON. Returns the entry id, or false when the job's hot copy is gone
-- or the job has ended: a step that arrives after its job's final event (a
-- NOSCRIPT resend can fall behind the job_finish pipelined after it) is
-- dropped, so the final event stays the last.
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == 'done' or st == 'failed' or st == 'cancelled' then return false end
return job_event(string.sub(KEYS[1], 5), ARGV[1], ARGV[2], ARGV[3])
