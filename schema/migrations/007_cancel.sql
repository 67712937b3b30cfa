-- 007_cancel: a job its owner cancelled (DELETE /job/:id; docs/pipeline.md,
-- "Cancelling a job"). A queued job is cancelled by the gateway, a running
-- one by its worker at once; either way the job ends with status
-- 'cancelled', which /stats counts like the other statuses.

ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled'));

CREATE OR REPLACE FUNCTION ci_stats(m text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT type, status, count(*) AS n FROM jobs GROUP BY type, status),
         t(type) AS (VALUES ('review'), ('debug'), ('architecture'), ('stress')),
         s(status) AS (VALUES ('queued'), ('running'), ('done'), ('failed'),
                       ('cancelled'))
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
