-- 006_clients: applying a reviewed fix with approval, and its audit trail
-- (POST /apply-fix, GET /audit; docs/apply-fix.md).
--
-- Every finding gets a stable id ("f1", "f2"... by position: the worker
-- numbers the findings it writes, ci_job_get derives the same ids from
-- idx). A job records the SHA-256 of the file it reviewed, as received
-- (file_sha256), and keeps the submitted files when its result holds a fix
-- (job_files: the main file, plus a debug job's neighbouring files when its
-- own fix may name one). The service never writes to a repository: an
-- application returns the patched text and leaves one fix_audit row.

ALTER TABLE jobs ADD COLUMN file_sha256 text CHECK (file_sha256 ~ '^[0-9a-f]{64}$');

CREATE TABLE job_files (
    job_id   uuid NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    path     text NOT NULL,
    content  text NOT NULL,
    sha256   text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),  -- of content, as received
    PRIMARY KEY (job_id, path)
);

-- One row per attempt to apply a fix that reached a fix of the caller's own
-- finished job: applied, or refused because the caller's base is not the
-- reviewed file (base_mismatch) or the fix does not apply to it
-- (patch_does_not_apply). Not tied to the job: the trail outlives it.
CREATE TABLE fix_audit (
    audit_id       uuid PRIMARY KEY,               -- UUIDv7 from the gateway: time-ordered
    user_id        uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    key_id         uuid,                           -- the API key used; NULL for a JWT
    job_id         uuid NOT NULL,
    finding_id     text NOT NULL,
    file_path      text NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('applied', 'base_mismatch',
                                                    'patch_does_not_apply')),
    base_sha256    text NOT NULL,                  -- what the caller said it has
    before_sha256  text NOT NULL,                  -- the reviewed file
    after_sha256   text,                           -- the patched file; NULL unless applied
    client_addr    text NOT NULL,
    request_id     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX fix_audit_user_idx ON fix_audit (user_id, audit_id DESC);

-- Saving a job now records file_sha256 and the kept files (doc->'job_files':
-- [{path, content, sha256}]).
CREATE OR REPLACE FUNCTION ci_job_save(doc jsonb) RETURNS bigint
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

-- Findings carry their id; the job its file_sha256.
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
        'file_sha256', j.file_sha256,
        'findings', COALESCE((
            SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'id', 'f' || (f.idx + 1), 'line', f.line, 'end_line', f.end_line, 'column', f.col,
                       'severity', f.severity, 'category', f.category,
                       'rule_id', f.rule_id, 'message', f.message, 'source', f.source,
                       'fix', f.fix, 'confidence', f.confidence))
                   ORDER BY f.idx)
            FROM findings f WHERE f.job_id = j.job_id), '[]'::jsonb),
        'summary', j.summary, 'notes', j.notes, 'linters', j.linters, 'error', j.error)
        || COALESCE(j.task_result, '{}'::jsonb)
    FROM jobs j WHERE j.job_id = id
$$;


-- What a fix of the caller's own job applies to, read inside the caller's
-- transaction: the job row is locked FOR SHARE so that a redelivered job
-- cannot be saved again (replacing its findings and files) before the
-- attempt is recorded. NULL when the job is absent or someone else's; else
-- {status, file_path, found (the finding exists), fix (NULL when it has
-- none), files: [{path, content, sha256}] (empty when none were kept)}.
-- fid is a finding id ("f3") or 'fix', a debug job's own fix.
CREATE FUNCTION ci_fix_source(owner uuid, job uuid, fid text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    j jobs%ROWTYPE;
    found_it boolean;
    fix_text text;
BEGIN
    SELECT * INTO j FROM jobs WHERE job_id = job AND user_id = owner FOR SHARE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF fid = 'fix' THEN
        found_it := j.type = 'debug' AND j.task_result IS NOT NULL;
        fix_text := j.task_result->>'fix';
    ELSE
        SELECT true, f.fix INTO found_it, fix_text
        FROM findings f WHERE f.job_id = job AND 'f' || (f.idx + 1) = fid;
    END IF;
    RETURN jsonb_build_object(
        'status', j.status, 'file_path', j.file_path, 'found', COALESCE(found_it, false),
        'fix', fix_text,
        'files', COALESCE((SELECT jsonb_agg(jsonb_build_object('path', k.path,
                                                                'content', k.content,
                                                                'sha256', k.sha256)
                                            ORDER BY k.path)
                           FROM job_files k WHERE k.job_id = job), '[]'::jsonb));
END;
$$;

-- Records one attempt (doc: the fix_audit columns but created_at); returns
-- {audit_id, created_at}.
CREATE FUNCTION ci_fix_record(doc jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO fix_audit (audit_id, user_id, key_id, job_id, finding_id, file_path, outcome,
                           base_sha256, before_sha256, after_sha256, client_addr, request_id)
    VALUES ((doc->>'audit_id')::uuid, (doc->>'user_id')::uuid,
            NULLIF(doc->>'key_id', '')::uuid, (doc->>'job_id')::uuid, doc->>'finding_id',
            doc->>'file_path', doc->>'outcome', doc->>'base_sha256', doc->>'before_sha256',
            doc->>'after_sha256', doc->>'client_addr', doc->>'request_id')
    RETURNING jsonb_build_object('audit_id', audit_id, 'created_at', ci_ts(created_at))
$$;

-- A page of a user's audit rows, newest first (audit ids are UUIDv7).
CREATE FUNCTION ci_audit_page(owner uuid, before uuid, lim integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'audit_id', a.audit_id, 'created_at', ci_ts(a.created_at),
               'user_id', a.user_id, 'key_id', a.key_id, 'job_id', a.job_id,
               'finding_id', a.finding_id, 'file_path', a.file_path, 'outcome', a.outcome,
               'base_sha256', a.base_sha256, 'before_sha256', a.before_sha256,
               'after_sha256', a.after_sha256, 'client_addr', a.client_addr,
               'request_id', a.request_id) ORDER BY a.audit_id DESC), '[]'::jsonb)
    FROM (SELECT * FROM fix_audit
          WHERE user_id = owner AND (before IS NULL OR audit_id < before)
          ORDER BY audit_id DESC LIMIT lim) a
$$;
