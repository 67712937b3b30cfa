-- 009_job_store: a later save of a job also brings its description up to date.
--
-- ci_job_store's ON CONFLICT branch replaced the result (status, findings,
-- summary...) but left file_path, repo_id, request_id and language as the
-- first save wrote them. The minimal form (worker/pipeline.c,
-- PERSIST_MINIMAL: what is stored after PostgreSQL refused the fuller ones)
-- carries no file_path, repo_id or request_id, so a job first stored that
-- way kept NULLs when a later delivery saved its full result (and
-- POST /apply-fix, which finds a finding's file by file_path, refused that
-- result's fixes as fix_not_available). Of the columns the document
-- carries, a later save now changes:
--   - file_path, repo_id, request_id: filled in when the document has them.
--     They are the submission's, the same in every delivery, so a later
--     minimal save (without them) keeps what an earlier save recorded;
--   - language: the worker's resolution, which a later worker may make
--     differently (a .h header read as cpp): the later one, like the
--     findings it goes with (unless it has none);
--   - the result members, as before.
-- job_id, type, created_at and user_id are fixed by the submission and
-- keep their first value; the token charge stays the first one recorded.

CREATE OR REPLACE FUNCTION ci_job_store(doc jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    id uuid := (doc->>'job_id')::uuid;
    owner uuid := (doc->>'user_id')::uuid;
    u jsonb := COALESCE(doc->'usage', '{}');
BEGIN
    INSERT INTO jobs AS j (job_id, type, status, repo_id, file_path, language, request_id,
                           pool, worker, attempts, summary, notes, linters, error,
                           created_at, started_at, finished_at, user_id, throttled,
                           degraded, degraded_reason, provider, model, usage, cached,
                           reviewed_ranges, skipped_ranges, task_result, file_sha256)
    VALUES (id, doc->>'type', doc->>'status', doc->>'repo_id', doc->>'file_path',
            doc->>'language', doc->>'request_id', doc->>'pool', doc->>'worker',
            COALESCE((doc->>'attempts')::integer, 0), doc->>'summary',
            COALESCE(doc->'notes', '[]'), COALESCE(doc->'linters', '[]'), doc->>'error',
            (doc->>'created_at')::timestamptz, (doc->>'started_at')::timestamptz,
            (doc->>'finished_at')::timestamptz, owner,
            COALESCE((doc->>'throttled')::boolean, false),
            COALESCE((doc->>'degraded')::boolean, false), doc->>'degraded_reason',
            doc->>'provider', doc->>'model', doc->'usage',
            COALESCE((doc->>'cached')::boolean, false),
            COALESCE(doc->'reviewed_ranges', '[]'), COALESCE(doc->'skipped_ranges', '[]'),
            doc->'task_result', doc->>'file_sha256')
    ON CONFLICT (job_id) DO UPDATE SET
        status = EXCLUDED.status, pool = EXCLUDED.pool, worker = EXCLUDED.worker,
        attempts = EXCLUDED.attempts, summary = EXCLUDED.summary, notes = EXCLUDED.notes,
        linters = EXCLUDED.linters, error = EXCLUDED.error,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
        throttled = EXCLUDED.throttled, degraded = EXCLUDED.degraded,
        degraded_reason = EXCLUDED.degraded_reason, provider = EXCLUDED.provider,
        model = EXCLUDED.model, usage = EXCLUDED.usage, cached = EXCLUDED.cached,
        reviewed_ranges = EXCLUDED.reviewed_ranges, skipped_ranges = EXCLUDED.skipped_ranges,
        task_result = EXCLUDED.task_result, file_sha256 = EXCLUDED.file_sha256,
        file_path = COALESCE(EXCLUDED.file_path, j.file_path),
        repo_id = COALESCE(EXCLUDED.repo_id, j.repo_id),
        request_id = COALESCE(EXCLUDED.request_id, j.request_id),
        language = COALESCE(EXCLUDED.language, j.language),
        updated_at = now();

    DELETE FROM findings WHERE job_id = id;
    INSERT INTO findings (job_id, idx, line, end_line, col, severity, category, rule_id,
                          message, source, fix, confidence)
    SELECT id, (f.ord - 1)::integer, GREATEST(COALESCE((f.v->>'line')::integer, 1), 1),
           (f.v->>'end_line')::integer, (f.v->>'column')::integer, f.v->>'severity',
           COALESCE(f.v->>'category', 'correctness'), f.v->>'rule_id', f.v->>'message',
           f.v->>'source', f.v->>'fix', (f.v->>'confidence')::real
    FROM jsonb_array_elements(COALESCE(doc->'findings', '[]')) WITH ORDINALITY AS f(v, ord);

    DELETE FROM job_files WHERE job_id = id;
    INSERT INTO job_files (job_id, path, content, sha256)
    SELECT DISTINCT ON (f->>'path') id, f->>'path', f->>'content', f->>'sha256'
    FROM jsonb_array_elements(COALESCE(doc->'job_files', '[]')) AS f;

    IF owner IS NOT NULL AND doc ? 'charge_month' THEN
        INSERT INTO token_charges (job_id, user_id, month, tokens, task, cached, input_tokens,
                                   output_tokens, cache_read_tokens, cache_write_tokens,
                                   cost_usd)
        VALUES (id, owner, doc->>'charge_month', COALESCE((doc->>'charge_tokens')::bigint, 0),
                COALESCE(doc->>'type', 'review'), COALESCE((doc->>'cached')::boolean, false),
                COALESCE((u->>'input_tokens')::bigint, 0),
                COALESCE((u->>'output_tokens')::bigint, 0),
                COALESCE((u->>'cache_read_tokens')::bigint, 0),
                COALESCE((u->>'cache_write_tokens')::bigint, 0),
                COALESCE((u->>'cost_usd')::numeric, 0))
        ON CONFLICT (job_id) DO NOTHING;
    END IF;
    RETURN (SELECT tokens FROM token_charges WHERE job_id = id);
END;
$$;
