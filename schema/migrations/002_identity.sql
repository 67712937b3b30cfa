-- 002_identity: users, API keys, the token ledger, and job ownership.

CREATE TABLE users (
    user_id       uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    plan          text NOT NULL DEFAULT 'lite' CHECK (plan IN ('lite', 'pro', 'business')),
    password_hash text,                 -- argon2id string; NULL: no password login
    external_sub  text UNIQUE,          -- subject of an external IdP (Supabase)
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_id       uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,          -- the visible start of the key
    key_hash     text NOT NULL UNIQUE,   -- keyed BLAKE2b-256, hex; never the key
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- The durable token ledger: one row per job, so a job is charged once.
CREATE TABLE token_charges (
    job_id     uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    month      text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    tokens     bigint NOT NULL CHECK (tokens >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX token_charges_user_month_idx ON token_charges (user_id, month);

ALTER TABLE jobs ADD COLUMN user_id uuid REFERENCES users (user_id) ON DELETE CASCADE;
ALTER TABLE jobs ADD COLUMN throttled boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN degraded boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN degraded_reason text;
CREATE INDEX jobs_user_job_idx ON jobs (user_id, job_id DESC);

-- Identity of an API key by its hash: user_id, key_id, email, plan, revoked.
-- Called on an identity-cache miss, so it also records the key's use (at
-- most once per cache lifetime).
CREATE FUNCTION ci_key_identity(hash text) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
    WITH k AS (UPDATE api_keys SET last_used_at = now()
               WHERE key_hash = hash AND revoked_at IS NULL
               RETURNING key_id)
    SELECT jsonb_build_object('user_id', u.user_id, 'key_id', a.key_id, 'email', u.email,
                              'plan', u.plan, 'revoked', a.revoked_at IS NOT NULL)
    FROM api_keys a JOIN users u USING (user_id)
    WHERE a.key_hash = hash AND (a.revoked_at IS NOT NULL OR a.key_id IN (SELECT key_id FROM k))
$$;

-- Identity of a user by id.
CREATE FUNCTION ci_user_identity(id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('user_id', u.user_id, 'email', u.email, 'plan', u.plan)
    FROM users u WHERE u.user_id = id
$$;

-- The user behind an external subject, created on first sight with plan lite.
-- An email already used by another account is not taken over: the new user
-- gets a placeholder address instead.
CREATE FUNCTION ci_external_user(sub text, mail text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    id uuid;
BEGIN
    SELECT user_id INTO id FROM users WHERE external_sub = sub;
    IF id IS NULL THEN
        INSERT INTO users (user_id, email, external_sub)
        VALUES (gen_random_uuid(), lower(COALESCE(NULLIF(mail, ''), sub || '@external.invalid')), sub)
        ON CONFLICT DO NOTHING;
        SELECT user_id INTO id FROM users WHERE external_sub = sub;
    END IF;
    IF id IS NULL THEN
        INSERT INTO users (user_id, email, external_sub)
        VALUES (gen_random_uuid(), lower(sub || '@external.invalid'), sub)
        ON CONFLICT DO NOTHING;
        SELECT user_id INTO id FROM users WHERE external_sub = sub;
    END IF;
    RETURN ci_user_identity(id);
END;
$$;

-- Tokens charged to a user in a month.
CREATE FUNCTION ci_month_used(id uuid, m text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(sum(tokens), 0)::bigint FROM token_charges WHERE user_id = id AND month = m
$$;

-- Saving a job now records its owner, flags and charge. The charge row is
-- keyed by job, so saving twice charges once.
CREATE OR REPLACE FUNCTION ci_job_save(doc jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    id uuid := (doc->>'job_id')::uuid;
    owner uuid := (doc->>'user_id')::uuid;
BEGIN
    INSERT INTO jobs AS j (job_id, type, status, repo_id, file_path, language, request_id,
                           pool, worker, attempts, summary, notes, linters, error,
                           created_at, started_at, finished_at, user_id, throttled,
                           degraded, degraded_reason)
    VALUES (id, doc->>'type', doc->>'status', doc->>'repo_id', doc->>'file_path',
            doc->>'language', doc->>'request_id', doc->>'pool', doc->>'worker',
            COALESCE((doc->>'attempts')::integer, 0), doc->>'summary',
            COALESCE(doc->'notes', '[]'), COALESCE(doc->'linters', '[]'), doc->>'error',
            (doc->>'created_at')::timestamptz, (doc->>'started_at')::timestamptz,
            (doc->>'finished_at')::timestamptz, owner,
            COALESCE((doc->>'throttled')::boolean, false),
            COALESCE((doc->>'degraded')::boolean, false), doc->>'degraded_reason')
    ON CONFLICT (job_id) DO UPDATE SET
        status = EXCLUDED.status, pool = EXCLUDED.pool, worker = EXCLUDED.worker,
        attempts = EXCLUDED.attempts, summary = EXCLUDED.summary, notes = EXCLUDED.notes,
        linters = EXCLUDED.linters, error = EXCLUDED.error,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
        throttled = EXCLUDED.throttled, degraded = EXCLUDED.degraded,
        degraded_reason = EXCLUDED.degraded_reason, updated_at = now();

    DELETE FROM findings WHERE job_id = id;
    INSERT INTO findings (job_id, idx, line, end_line, col, severity, category, rule_id,
                          message, source)
    SELECT id, (f.ord - 1)::integer, GREATEST(COALESCE((f.v->>'line')::integer, 1), 1),
           (f.v->>'end_line')::integer, (f.v->>'column')::integer, f.v->>'severity',
           COALESCE(f.v->>'category', 'correctness'), f.v->>'rule_id', f.v->>'message',
           f.v->>'source'
    FROM jsonb_array_elements(COALESCE(doc->'findings', '[]')) WITH ORDINALITY AS f(v, ord);

    IF owner IS NOT NULL AND doc ? 'charge_month' THEN
        INSERT INTO token_charges (job_id, user_id, month, tokens)
        VALUES (id, owner, doc->>'charge_month', COALESCE((doc->>'charge_tokens')::bigint, 0))
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
        'degraded_reason', j.degraded_reason,
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

-- A page of a user's jobs, newest first (job ids are UUIDv7: time-ordered).
CREATE FUNCTION ci_jobs_page(owner uuid, before uuid, want_status text, want_type text,
                             lim integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_agg(ci_job_get(j.job_id) ORDER BY j.job_id DESC), '[]'::jsonb)
    FROM (SELECT job_id FROM jobs
          WHERE user_id = owner
            AND (before IS NULL OR job_id < before)
            AND (want_status IS NULL OR status = want_status)
            AND (want_type IS NULL OR type = want_type)
          ORDER BY job_id DESC LIMIT lim) j
$$;
