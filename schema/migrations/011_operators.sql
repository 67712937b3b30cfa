-- 011_operators: the operator role, a per-user flag.
--
-- GET /stats answers with figures over every user (jobs, users, active
-- keys, this month's tokens and cost): in a deployment shared by several
-- customers, none of them may read those. Only operators may (the people
-- running the deployment); everyone else gets 403 operator_only.
-- `codeinsight-admin user-operator EMAIL on|off` sets the flag. It travels
-- with the identity, as the plan does: the identity functions return it,
-- the gateways cache it (Redis for CODEINSIGHT_AUTH_CACHE_TTL, their own
-- copy for CODEINSIGHT_IDENTITY_CACHE_MS), so a grant or a revocation is
-- seen within those two times (docs/operations.md, "Operators").

ALTER TABLE users ADD COLUMN operator boolean NOT NULL DEFAULT false;

-- Identity of an API key by its hash: as in 002, with operator.
CREATE OR REPLACE FUNCTION ci_key_identity(hash text) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
    WITH k AS (UPDATE api_keys SET last_used_at = now()
               WHERE key_hash = hash AND revoked_at IS NULL
               RETURNING key_id)
    SELECT jsonb_build_object('user_id', u.user_id, 'key_id', a.key_id, 'email', u.email,
                              'plan', u.plan, 'operator', u.operator,
                              'revoked', a.revoked_at IS NOT NULL)
    FROM api_keys a JOIN users u USING (user_id)
    WHERE a.key_hash = hash AND (a.revoked_at IS NOT NULL OR a.key_id IN (SELECT key_id FROM k))
$$;

-- Identity of a user by id (tokens; ci_external_user returns it too): as in
-- 002, with operator.
CREATE OR REPLACE FUNCTION ci_user_identity(id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('user_id', u.user_id, 'email', u.email, 'plan', u.plan,
                              'operator', u.operator)
    FROM users u WHERE u.user_id = id
$$;
