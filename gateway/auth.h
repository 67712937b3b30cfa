/* auth.h - who is calling: the Authorization header checked (API key shape,
 * or a JWT verified locally), and the Redis identity cache filled from
 * PostgreSQL when a script reports a miss. */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include "common/plans.h"

/* Seconds the Redis cache keeps PostgreSQL's answer that a credential's
 * identity does not exist, so a repeated unknown key costs one Redis call,
 * not a query each time. Keys and users are created with random ids, so
 * such an answer can only concern a guessed or forgotten credential; POST
 * /keys still deletes any for the new key's hash. */
#define AUTH_UNKNOWN_TTL_S 30
/* Seconds the last-known copy of an identity (stale:<cache key>, written by
 * every fill) is kept, to be served while PostgreSQL is unreachable. A
 * revocation must reach it (key_revoke.h), or the key works again then. */
#define AUTH_STALE_TTL_S 86400

/* Bytes of an identity cache key, its NUL included. */
#define AUTH_CACHE_KEY_MAX 96

struct err;
struct request;

enum ident_kind { IDENT_KEY, IDENT_USER, IDENT_EXTERNAL };

struct identity {
    enum ident_kind kind;
    char cache_key[AUTH_CACHE_KEY_MAX]; /* auth:key:<hash> | auth:user:<id> | auth:ext:<hash> */
    char key_hash[65];              /* IDENT_KEY */
    char user_id[37];               /* known from the token (IDENT_USER), else after the gate */
    char key_id[37];
    char email[320];
    char plan[16];
    int is_operator;                /* 1: users.operator (may read GET /stats); set by
                                       gate_or_respond only, 0 on submissions */
    char ext_sub[256];              /* IDENT_EXTERNAL */
    char ext_email[320];
};

/* Writes the identity cache key of an API key's hash (account_key_hash):
 * "auth:key:<hash>". */
void auth_key_cache_key(char out[AUTH_CACHE_KEY_MAX], const char *key_hash);

/* Checks the Authorization header. Returns 0 with id's kind and cache key
 * set, or answers 401 (with WWW-Authenticate) and returns -1. */
int auth_parse_or_respond(struct request *req, struct identity *id);

/* After a script's 'miss': loads the identity from PostgreSQL into the Redis
 * cache (with the plan's limits, and the operator role as field "operator",
 * "1" or "0": a plan or role change is seen once the entry expires). When
 * PostgreSQL knows no such identity, caches that answer for
 * AUTH_UNKNOWN_TTL_S (the scripts then answer 'unknown') and returns
 * auth_unknown_error's code; availability errors otherwise. */
int auth_fill_cache(struct request *req, const struct identity *id, struct err *e);

/* Sets e to the refusal of an identity PostgreSQL does not know (a script's
 * 'unknown'): ERR_INVALID_API_KEY for an API key, ERR_INVALID_TOKEN for a
 * token. Returns e->code. */
int auth_unknown_error(const struct identity *id, struct err *e);

/* For error paths of routes that authenticate inside their own script:
 * returns 0 when the credential belongs to an existing, unrevoked identity
 * (from the Redis cache, filled from PostgreSQL when missing), else answers
 * 401 (or 503) and returns -1. Costs a round trip: not for the hot path. */
int auth_known_or_respond(struct request *req, const struct identity *id);

/* Answers 401 for e with the WWW-Authenticate header: Bearer
 * realm="codeinsight", and error="invalid_token" when the request
 * presented a bearer token that e refuses (not for a login's
 * invalid_credentials). */
void auth_respond_401(struct request *req, const struct err *e);

#endif
