-- 005_heavy: the heavy pool's tasks. Stress jobs; jobs without a submitted
-- file (architecture, stress); and each task's own result members (a debug
-- job's root_cause, fix and verification; the architecture document; the
-- stress report), kept as one document and merged into GET /job/:id.

ALTER TABLE jobs DROP CONSTRAINT jobs_type_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_type_check
    CHECK (type IN ('review', 'debug', 'architecture', 'stress'));
ALTER TABLE jobs ALTER COLUMN file_path DROP NOT NULL;
ALTER TABLE jobs ADD COLUMN task_result jsonb;

-- ci_job_save now returns the job's charge as the ledger holds it (NULL when
-- it has none): a job delivered twice is charged once, at the first
-- delivery's count, and the worker reconciles the Redis budget counter with
-- that number, not with its own (a redelivery may have hit the prompt cache).
DROP FUNCTION ci_job_save(jsonb);
CREATE FUNCTION ci_job_save(doc jsonb) RETURNS bigint
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
                           reviewed_ranges, skipped_ranges, task_result)
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
            doc->'task_result')
    ON CONFLICT (job_id) DO UPDATE SET
        status = EXCLUDED.status, pool = EXCLUDED.pool, worker = EXCLUDED.worker,
        attempts = EXCLUDED.attempts, summary = EXCLUDED.summary, notes = EXCLUDED.notes,
        linters = EXCLUDED.linters, error = EXCLUDED.error,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
        throttled = EXCLUDED.throttled, degraded = EXCLUDED.degraded,
        degraded_reason = EXCLUDED.degraded_reason, provider = EXCLUDED.provider,
        model = EXCLUDED.model, usage = EXCLUDED.usage, cached = EXCLUDED.cached,
        reviewed_ranges = EXCLUDED.reviewed_ranges, skipped_ranges = EXCLUDED.skipped_ranges,
        task_result = EXCLUDED.task_result, updated_at = now();

    DELETE FROM findings WHERE job_id = id;
    INSERT INTO findings (job_id, idx, line, end_line, col, severity, category, rule_id,
                          message, source, fix, confidence)
    SELECT id, (f.ord - 1)::integer, GREATEST(COALESCE((f.v->>'line')::integer, 1), 1),
           (f.v->>'end_line')::integer, (f.v->>'column')::integer, f.v->>'severity',
           COALESCE(f.v->>'category', 'correctness'), f.v->>'rule_id', f.v->>'message',
           f.v->>'source', f.v->>'fix', (f.v->>'confidence')::real
    FROM jsonb_array_elements(COALESCE(doc->'findings', '[]')) WITH ORDINALITY AS f(v, ord);

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

CREATE OR REPLACE FUNCTION ci_job_get(id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'job_id', j.job_id, 'type', j.type, 'status', j.status,
        'created_at', ci_ts(j.created_at), 'started_at', ci_ts(j.started_at),
        'finished_at', ci_ts(j.finished_at), 'attempts', j.attempts,
        'file_path', j.file_path, 'language', j.language, 'repo_id', j.repo_id,
        'request_id', j.request_id, 'pool', j.pool, 'worker', j.worker,
        'user_id', j.user_id, 'throttled', j.throttled, 'degraded', j.degraded,
        'degraded_reason', j.degraded_reason, 'provider', j.provider, 'model', j.model,
        'usage', j.usage, 'cached', j.cached, 'reviewed_ranges', j.reviewed_ranges,
        'skipped_ranges', j.skipped_ranges, 'deferred_until', NULL,
        'findings', COALESCE((
            SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'line', f.line, 'end_line', f.end_line, 'column', f.col,
                       'severity', f.severity, 'category', f.category,
                       'rule_id', f.rule_id, 'message', f.message, 'source', f.source,
                       'fix', f.fix, 'confidence', f.confidence))
                   ORDER BY f.idx)
            FROM findings f WHERE f.job_id = j.job_id), '[]'::jsonb),
        'summary', j.summary, 'notes', j.notes, 'linters', j.linters, 'error', j.error)
        || COALESCE(j.task_result, '{}'::jsonb)
    FROM jobs j WHERE j.job_id = id
$$;

CREATE OR REPLACE FUNCTION ci_stats(m text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT type, status, count(*) AS n FROM jobs GROUP BY type, status),
         t(type) AS (VALUES ('review'), ('debug'), ('architecture'), ('stress')),
         s(status) AS (VALUES ('queued'), ('running'), ('done'), ('failed'))
    SELECT jsonb_build_object(
        'month', m,
        'jobs', jsonb_build_object(
            'total', (SELECT COALESCE(sum(n), 0) FROM c),
            'by_status', (SELECT jsonb_object_agg(s.status,
                                     (SELECT COALESCE(sum(n), 0) FROM c WHERE c.status = s.status))
                          FROM s),
            'by_type', (SELECT jsonb_object_agg(t.type,
                                   (SELECT COALESCE(sum(n), 0) FROM c WHERE c.type = t.type))
                        FROM t),
            'by_type_status', (SELECT jsonb_object_agg(t.type,
                                   (SELECT jsonb_object_agg(s.status,
                                        (SELECT COALESCE(sum(n), 0) FROM c
                                         WHERE c.type = t.type AND c.status = s.status))
                                    FROM s))
                               FROM t)),
        'users', (SELECT count(*) FROM users),
        'api_keys_active', (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL),
        'tokens_this_month', (SELECT COALESCE(sum(tokens), 0) FROM token_charges WHERE month = m),
        'cost_usd_this_month', (SELECT COALESCE(sum(cost_usd), 0) FROM token_charges
                                WHERE month = m))
$$;
