/* key_revoke.h - telling Redis that PostgreSQL revoked an API key, shared by
 * DELETE /keys/:id (keys.c) and codeinsight-admin key-revoke (admin_main.c).
 *
 * PostgreSQL is the truth, but a gateway decides from Redis first: the
 * identity cache entry (auth:key:<hash>, CODEINSIGHT_AUTH_CACHE_TTL) and its
 * long-lived copy (stale:auth:key:<hash>, AUTH_STALE_TTL_S) that is put back
 * whenever PostgreSQL cannot be reached. Until both say revoked, the key is
 * accepted again during a PostgreSQL outage.
 *
 *     if (account_key_revoke(db, key_id, user_id, hash, &e) == ERR_OK)
 *         rc = key_revoke_cached(kv, hash, &e);   // retry on failure
 */
#ifndef GW_KEY_REVOKE_H
#define GW_KEY_REVOKE_H

struct err;
struct kv;

/* Seconds the cache entry of a revoked key says so; PostgreSQL (which says
 * revoked as well) is asked after that. */
#define KEY_REVOKE_CACHE_TTL_S 3600

/* After account_key_revoke() returned key_hash (64 hex digits): sets
 * revoked=1 in the key's cache entry and its long-lived copy, whether they
 * exist or not, and publishes the cache key on IDC_CHANNEL so every
 * gateway drops its own copy (schema/redis/key_revoke.lua, one atomic
 * call). Idempotent: call again after a failure. Needs job_scripts_init().
 * Returns ERR_OK; else the kv error (ERR_REDIS_UNAVAILABLE: drop kv and
 * reconnect; ERR_PROTOCOL: Redis refused the script), and the key may
 * still be accepted from a copy until a call succeeds. */
int key_revoke_cached(struct kv *kv, const char *key_hash, struct err *e);

#endif
