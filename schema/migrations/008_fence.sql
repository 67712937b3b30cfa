-- 008_fence: one result per job, whichever worker finishes last.
--
-- A worker cut off from Redis past the visibility timeout goes on with the
-- jobs it holds while another worker reclaims their entries and runs them
-- again (a later delivery: more attempts), or ends one its owner cancelled
-- (the same delivery). Both then save. The rule, the same as
-- job_finish.lua's for the hot copy: a saved job is replaced only by a
-- later delivery's result, or by the same worker saving again (a retry);
-- any other save is superseded. ci_job_save answers -1 then, changing
-- nothing, and that worker publishes nothing. Saves of one job are
-- serialised by an advisory lock, so two first saves cannot both win.
-- The token charge stays the first one recorded (ci_job_store), as before.

ALTER FUNCTION ci_job_save(jsonb) RENAME TO ci_job_store;

CREATE FUNCTION ci_job_save(doc jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    id uuid := (doc->>'job_id')::uuid;
    tries integer := COALESCE((doc->>'attempts')::integer, 0);
    prev record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(id::text, 8));
    SELECT status, worker, attempts INTO prev FROM jobs WHERE job_id = id;
    IF FOUND AND prev.status IN ('done', 'failed', 'cancelled')
       AND prev.worker IS DISTINCT FROM doc->>'worker' AND prev.attempts >= tries THEN
        RETURN -1;
    END IF;
    RETURN ci_job_store(doc);
END;
$$;
