-- 001_jobs: jobs and their findings, the system of record.
-- Functions keep SQL out of the C code: the worker saves a whole job document
-- with ci_job_save() and the gateway reads it back with ci_job_get(), both in
-- one round trip.

CREATE TABLE jobs (
    job_id       uuid PRIMARY KEY,
    type         text NOT NULL CHECK (type IN ('review', 'debug', 'architecture')),
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    repo_id      text,
    file_path    text NOT NULL,
    language     text,
    request_id   text,
    pool         text,
    worker       text,
    attempts     integer NOT NULL DEFAULT 0,
    summary      text,
    notes        jsonb NOT NULL DEFAULT '[]',
    linters      jsonb NOT NULL DEFAULT '[]',
    error        text,
    created_at   timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jobs_created_at_idx ON jobs (created_at);

CREATE TABLE findings (
    job_id     uuid NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    idx        integer NOT NULL,
    line       integer NOT NULL CHECK (line >= 1),
    end_line   integer,
    col        integer,
    severity   text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'info')),
    category   text NOT NULL,
    rule_id    text,
    message    text NOT NULL,
    source     text NOT NULL,
    PRIMARY KEY (job_id, idx)
);

-- Saves a job document (the same shape GET /job/:id returns). Idempotent by
-- job_id: a job processed twice leaves one row and one set of findings.
CREATE FUNCTION ci_job_save(doc jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    id uuid := (doc->>'job_id')::uuid;
BEGIN
    INSERT INTO jobs AS j (job_id, type, status, repo_id, file_path, language, request_id,
                           pool, worker, attempts, summary, notes, linters, error,
                           created_at, started_at, finished_at)
    VALUES (id, doc->>'type', doc->>'status', doc->>'repo_id', doc->>'file_path',
            doc->>'language', doc->>'request_id', doc->>'pool', doc->>'worker',
            COALESCE((doc->>'attempts')::integer, 0), doc->>'summary',
            COALESCE(doc->'notes', '[]'), COALESCE(doc->'linters', '[]'), doc->>'error',
            (doc->>'created_at')::timestamptz, (doc->>'started_at')::timestamptz,
            (doc->>'finished_at')::timestamptz)
    ON CONFLICT (job_id) DO UPDATE SET
        status = EXCLUDED.status, pool = EXCLUDED.pool, worker = EXCLUDED.worker,
        attempts = EXCLUDED.attempts, summary = EXCLUDED.summary, notes = EXCLUDED.notes,
        linters = EXCLUDED.linters, error = EXCLUDED.error,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
        updated_at = now();

    DELETE FROM findings WHERE job_id = id;
    INSERT INTO findings (job_id, idx, line, end_line, col, severity, category, rule_id,
                          message, source)
    SELECT id, (f.ord - 1)::integer, GREATEST(COALESCE((f.v->>'line')::integer, 1), 1),
           (f.v->>'end_line')::integer, (f.v->>'column')::integer, f.v->>'severity',
           COALESCE(f.v->>'category', 'correctness'), f.v->>'rule_id', f.v->>'message',
           f.v->>'source'
    FROM jsonb_array_elements(COALESCE(doc->'findings', '[]')) WITH ORDINALITY AS f(v, ord);
END;
$$;

-- Timestamps in the API's format: RFC 3339, UTC, milliseconds.
CREATE FUNCTION ci_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The job as GET /job/:id shows it, or NULL.
CREATE FUNCTION ci_job_get(id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'job_id', j.job_id, 'type', j.type, 'status', j.status,
        'created_at', ci_ts(j.created_at), 'started_at', ci_ts(j.started_at),
        'finished_at', ci_ts(j.finished_at), 'attempts', j.attempts,
        'file_path', j.file_path, 'language', j.language, 'repo_id', j.repo_id,
        'request_id', j.request_id, 'pool', j.pool, 'worker', j.worker,
        'findings', COALESCE((
            SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                       'line', f.line, 'end_line', f.end_line, 'column', f.col,
                       'severity', f.severity, 'category', f.category,
                       'rule_id', f.rule_id, 'message', f.message, 'source', f.source))
                   ORDER BY f.idx)
            FROM findings f WHERE f.job_id = j.job_id), '[]'::jsonb),
        'summary', j.summary, 'notes', j.notes, 'linters', j.linters, 'error', j.error)
    FROM jobs j WHERE j.job_id = id
$$;
