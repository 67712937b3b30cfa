-- 012_job_copy: a shared result-cache hit is a job of the caller's own.
--
-- With CODEINSIGHT_RESULT_CACHE_SHARED=1 an identical submission by
-- another user was answered with the owner's job: its result, but the
-- owner's job_id, which only the owner may read. GET /job/:id, its exports
-- and fixes then answered the caller 404, and the job was in no list of
-- theirs. Now the gateway makes the caller a finished job of their own,
-- a copy of the result (docs/admission.md, "Result cache").
--
-- copied_from names the job a copy was made from. It is never shown (it is
-- the owner's id) and not a foreign key: the copy outlives its source. One
-- copy per user and source: a second hit of the same caller, or a replay
-- of the same Idempotency-Key, answers the copy made first.

ALTER TABLE jobs ADD COLUMN copied_from uuid;
CREATE UNIQUE INDEX jobs_copy_idx ON jobs (user_id, copied_from)
    WHERE copied_from IS NOT NULL;

-- The caller's copy of the finished job src: dst (a new id) when it is the
-- first, else the copy made before; NULL when src is not a done job.
-- The copy takes what follows from what was submitted and how the workers
-- answered (the result's columns, the findings, the files kept for fixes,
-- and of task_result the members named in keep); it is the caller's own
-- otherwise: owner, request_id, repo_id, times (now), no attempts, pool,
-- worker or usage, and no charge (token_charges has no row for it).
CREATE FUNCTION ci_job_copy(src uuid, dst uuid, owner uuid, req text, repo text, keep text[])
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    made uuid;
BEGIN
    INSERT INTO jobs (job_id, type, status, repo_id, file_path, language, request_id,
                      attempts, summary, notes, linters, error, created_at, started_at,
                      finished_at, user_id, degraded, degraded_reason, provider, model,
                      cached, reviewed_ranges, skipped_ranges, task_result, file_sha256,
                      copied_from)
    SELECT dst, s.type, s.status, repo, s.file_path, s.language, req, 0, s.summary, s.notes,
           s.linters, s.error, now(), now(), now(), owner, s.degraded, s.degraded_reason,
           s.provider, s.model, s.cached, s.reviewed_ranges, s.skipped_ranges,
           (SELECT jsonb_object_agg(t.key, t.value) FROM jsonb_each(s.task_result) AS t
            WHERE t.key = ANY (keep)),
           s.file_sha256, src
    FROM jobs s WHERE s.job_id = src AND s.status = 'done'
    ON CONFLICT (user_id, copied_from) WHERE copied_from IS NOT NULL DO NOTHING
    RETURNING job_id INTO made;
    IF made IS NULL THEN
        -- Copied before (or src is not a done job: NULL).
        SELECT job_id INTO made FROM jobs WHERE user_id = owner AND copied_from = src;
        RETURN made;
    END IF;
    INSERT INTO findings
    SELECT (jsonb_populate_record(NULL::findings, to_jsonb(f) || jsonb_build_object('job_id', dst))).*
    FROM findings f WHERE f.job_id = src;
    INSERT INTO job_files
    SELECT (jsonb_populate_record(NULL::job_files,
                                  to_jsonb(f) || jsonb_build_object('job_id', dst))).*
    FROM job_files f WHERE f.job_id = src;
    RETURN made;
END;
$$;
