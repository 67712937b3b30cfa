-- job_read.lua: a job's hot copy (lib/job_read.lua), one round trip.
-- KEYS[1] job hash; KEYS[2], when the job id names a stream entry, that
-- stream, and ARGV[1] the entry id (common/job.h). Returns an HGETALL-like
-- flat list, empty when there is neither.
return job_read(KEYS[1], KEYS[2], ARGV[1])
