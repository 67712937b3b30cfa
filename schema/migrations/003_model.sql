-- 003_model: what the model step adds to a job, and usage by task for the ledger.

ALTER TABLE jobs ADD COLUMN provider text;
ALTER TABLE jobs ADD COLUMN model text;
ALTER TABLE jobs ADD COLUMN usage jsonb;
ALTER TABLE jobs ADD COLUMN cached boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN reviewed_ranges jsonb NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN skipped_ranges jsonb NOT NULL DEFAULT '[]';

ALTER TABLE token_charges ADD COLUMN task text NOT NULL DEFAULT 'review';
ALTER TABLE token_charges ADD COLUMN cached boolean NOT NULL DEFAULT false;
ALTER TABLE token_charges ADD COLUMN input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE token_charges ADD COLUMN output_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE token_charges ADD COLUMN cache_read_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE token_charges ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE token_charges ADD COLUMN cost_usd numeric(14, 6) NOT NULL DEFAULT 0;

ALTER TABLE findings ADD COLUMN fix text;
ALTER TABLE findings ADD COLUMN confidence real;

CREATE OR REPLACE FUNCTION ci_job_save(doc jsonb) RETURNS void
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
                           reviewed_ranges, skipped_ranges)
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
            COALESCE(doc->'reviewed_ranges', '[]'), COALESCE(doc->'skipped_ranges', '[]'))
    ON CONFLICT (job_id) DO UPDATE SET
        status = EXCLUDED.status, pool = EXCLUDED.pool, worker = EXCLUDED.worker,
        attempts = EXCLUDED.attempts, summary = EXCLUDED.summary, notes = EXCLUDED.notes,
        linters = EXCLUDED.linters, error = EXCLUDED.error,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
        throttled = EXCLUDED.throttled, degraded = EXCLUDED.degraded,
        degraded_reason = EXCLUDED.degraded_reason, provider = EXCLUDED.provider,
        model = EXCLUDED.model, usage = EXCLUDED.usage, cached = EXCLUDED.cached,
        reviewed_ranges = EXCLUDED.reviewed_ranges, skipped_ranges = EXCLUDED.skipped_ranges,
        updated_at = now();

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
    FROM jobs j WHERE j.job_id = id
$$;

-- This month's usage of a user, by task type.
CREATE FUNCTION ci_usage(owner uuid, m text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'month', m,
        'tokens', COALESCE(sum(tokens), 0), 'cost_usd', COALESCE(sum(cost_usd), 0),
        'jobs', COALESCE(sum(n), 0), 'cache_hits', COALESCE(sum(hits), 0),
        'by_task', COALESCE(jsonb_object_agg(task, t), '{}'))
    FROM (SELECT task, sum(tokens) AS tokens, sum(cost_usd) AS cost_usd, count(*) AS n,
                 count(*) FILTER (WHERE cached) AS hits,
                 jsonb_build_object(
                     'tokens', sum(tokens), 'input_tokens', sum(input_tokens),
                     'output_tokens', sum(output_tokens),
                     'cache_read_tokens', sum(cache_read_tokens),
                     'cache_write_tokens', sum(cache_write_tokens),
                     'cost_usd', sum(cost_usd), 'jobs', count(*),
                     'cache_hits', count(*) FILTER (WHERE cached)) AS t
          FROM token_charges WHERE user_id = owner AND month = m GROUP BY task) per_task
$$;
