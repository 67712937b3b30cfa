/* auth.c - credentials: API keys and JWTs, and the identity cache. */
#include "gateway/auth.h"

#include "common/account.h"
#include "common/cidr.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/job.h"
#include "common/jwt.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_HEADER_MAX (JWT_MAX_LEN + 16)
#define AUTH_FIELDS_MAX 32

/* 1 when the request presented a bearer token: "Bearer" and something
 * after it (auth_parse judges what). */
static int bearer_presented(const struct request *req)
{
    const char *h = request_header(req, "Authorization");

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    return h[strspn(h, " ")] != '\0';
}

void auth_respond_401(struct request *req, const struct err *e)
{
    /* RFC 6750 section 3.1: invalid_token says the token sent is expired,
     * revoked, malformed or otherwise refused; a request that sent none
     * (no Authorization, another scheme) or failed for something else (a
     * login's wrong password) gets the bare challenge. */
    if (e->code != ERR_INVALID_CREDENTIALS && bearer_presented(req))
        respond_header(req, "WWW-Authenticate",
                       "Bearer realm=\"codeinsight\", error=\"invalid_token\"");
    else
        respond_header(req, "WWW-Authenticate", "Bearer realm=\"codeinsight\"");
    respond_error(req, e);
}

void auth_key_cache_key(char out[AUTH_CACHE_KEY_MAX], const char *key_hash)
{
    snprintf(out, AUTH_CACHE_KEY_MAX, "auth:key:%s", key_hash);
}

static int parse_jwt(struct request *req, const char *tok, size_t len, struct identity *id,
                     struct err *e)
{
    struct gateway *gw = req->gw;
    struct jwt_claims peek, c;
    int own;
    int rc;

    if ((rc = jwt_peek(tok, len, &peek, e)) != ERR_OK)
        return rc;
    own = strcmp(peek.iss, gw->cfg->jwt_issuer) == 0 || !gw->ext_enabled;
    rc = jwt_verify(own ? &gw->own_jwt : &gw->ext_jwt, tok, len, clock_now_s(), &c, e);
    if (rc != ERR_OK)
        return rc;
    if (own) {
        if (!crypto_uuid_valid(c.sub))
            return err_set(e, ERR_INVALID_TOKEN, "sub is not a user id");
        id->kind = IDENT_USER;
        snprintf(id->user_id, sizeof id->user_id, "%.36s", c.sub);
        snprintf(id->cache_key, sizeof id->cache_key, "auth:user:%.36s", c.sub);
        return ERR_OK;
    }
    if (c.sub[0] == '\0')
        return err_set(e, ERR_INVALID_TOKEN, "the token has no sub");
    {
        char subject[600], digest[65];
        snprintf(subject, sizeof subject, "%s\n%s", c.iss, c.sub);
        crypto_sha256_hex(subject, strlen(subject), digest);
        id->kind = IDENT_EXTERNAL;
        snprintf(id->ext_sub, sizeof id->ext_sub, "%s", c.sub);
        snprintf(id->ext_email, sizeof id->ext_email, "%s", c.email);
        snprintf(id->cache_key, sizeof id->cache_key, "auth:ext:%s", digest);
    }
    return ERR_OK;
}

static int auth_parse(struct request *req, struct identity *id, struct err *e)
{
    const char *h = request_header(req, "Authorization");
    const char *tok;
    size_t hlen, len;

    memset(id, 0, sizeof *id);
    if (h == NULL)
        return err_set(e, ERR_MISSING_CREDENTIALS,
                       "send Authorization: Bearer <API key or token>");
    hlen = strlen(h);
    if (hlen > AUTH_HEADER_MAX)
        return err_set(e, ERR_TOKEN_TOO_LARGE, "the credential is over %d bytes", JWT_MAX_LEN);
    if (hlen < 8 || strncasecmp(h, "Bearer ", 7) != 0)
        return err_set(e, ERR_MALFORMED_CREDENTIALS, "use the Bearer scheme");
    tok = h + 7;
    while (*tok == ' ')
        tok++;
    len = strlen(tok);
    if (len == 0 || strpbrk(tok, " \t,") != NULL)
        return err_set(e, ERR_MALFORMED_CREDENTIALS, "one token after Bearer");
    if (strncmp(tok, ACCOUNT_KEY_PREFIX, sizeof ACCOUNT_KEY_PREFIX - 1) == 0) {
        if (!account_key_shape_ok(tok, len))
            return err_set(e, ERR_INVALID_API_KEY, "not a valid API key");
        id->kind = IDENT_KEY;
        account_key_hash(tok, len, req->gw->cfg->key_pepper, id->key_hash);
        auth_key_cache_key(id->cache_key, id->key_hash);
        return ERR_OK;
    }
    if (len > JWT_MAX_LEN)
        return err_set(e, ERR_TOKEN_TOO_LARGE, "the token is over %d bytes", JWT_MAX_LEN);
    {
        int dots = 0;
        for (const char *p = tok; *p; p++)
            dots += *p == '.';
        if (dots != 2)
            return err_set(e, ERR_MALFORMED_CREDENTIALS, "neither an API key nor a JWT");
    }
    return parse_jwt(req, tok, len, id, e);
}

int auth_parse_or_respond(struct request *req, struct identity *id)
{
    struct err e;

    err_clear(&e);
    if (auth_parse(req, id, &e) == ERR_OK)
        return 0;
    auth_respond_401(req, &e);
    return -1;
}

/* Writes the identity and its plan's limits into the Redis cache and its
 * long-lived copy, in one auth_fill.lua call: a revocation written there
 * meanwhile (after this identity was read) is kept. */
static int cache_write(struct request *req, const char *key, const cJSON *ident, struct err *e)
{
    struct gateway *gw = req->gw;
    const char *argv[4 + 2 * AUTH_FIELDS_MAX];
    char num[RC__COUNT * 2 + 1][32], ttl[24], stale_ttl[24], stale[128];
    int p = plans_parse(json_str(ident, "plan"));
    const struct plan_limits *lim = plans_get(p < 0 ? PLAN_LITE : (enum plan)p);
    double scale = (double)gw->cfg->rate_limit_scale_pct / 100.0;
    struct kv *kv;
    cJSON *r = NULL;
    int n = 0, k = 0;
    static const char *const names[][2] = {{"submit_burst", "submit_rate"},
                                           {"read_burst", "read_rate"},
                                           {"auth_burst", "auth_rate"}};

    /* keys: the cache key, its stale copy; then their TTLs, the fields */
    snprintf(stale, sizeof stale, "stale:%s", key);
    snprintf(ttl, sizeof ttl, "%ld", gw->cfg->auth_cache_ttl_s);
    snprintf(stale_ttl, sizeof stale_ttl, "%d", AUTH_STALE_TTL_S);
    argv[n++] = key;
    argv[n++] = stale;
    argv[n++] = ttl;
    argv[n++] = stale_ttl;
    for (const char *f = "user_id\0key_id\0email\0plan\0"; *f; f += strlen(f) + 1) {
        argv[n++] = f;
        argv[n++] = json_str(ident, f) ? json_str(ident, f) : "";
    }
    for (int c = 0; c < RC__COUNT; c++) {
        snprintf(num[k], sizeof num[k], "%.6g", lim->rate[c].burst * scale);
        argv[n++] = names[c][0];
        argv[n++] = num[k++];
        snprintf(num[k], sizeof num[k], "%.6g", lim->rate[c].per_min * scale);
        argv[n++] = names[c][1];
        argv[n++] = num[k++];
    }
    snprintf(num[k], sizeof num[k], "%lld", (long long)lim->tokens_per_month);
    argv[n++] = "budget";
    argv[n++] = num[k++];
    argv[n++] = "operator";
    argv[n++] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ident, "operator")) ? "1" : "0";
    argv[n++] = "revoked";
    argv[n++] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ident, "revoked")) ? "1" : "0";

    if ((kv = gateway_kv(gw, e)) == NULL ||
        kv_eval(kv, &job_script_auth_fill, 2, n, argv, NULL, &r, e) != ERR_OK)
        return e->code;
    cJSON_Delete(r);
    return ERR_OK;
}

/* Caches PostgreSQL's answer that the identity at key does not exist
 * (auth_fill.lua without fields). Returns ERR_OK or a Redis error. */
static int cache_write_unknown(struct request *req, const char *key, struct err *e)
{
    char stale[128], ttl[24];
    struct kv *kv;
    cJSON *r = NULL;

    snprintf(stale, sizeof stale, "stale:%s", key);
    snprintf(ttl, sizeof ttl, "%d", AUTH_UNKNOWN_TTL_S);
    if ((kv = gateway_kv(req->gw, e)) == NULL ||
        kv_eval(kv, &job_script_auth_fill, 2, 4, (const char *[]){key, stale, ttl, "0"}, NULL,
                &r, e) != ERR_OK)
        return e->code;
    cJSON_Delete(r);
    return ERR_OK;
}

int auth_unknown_error(const struct identity *id, struct err *e)
{
    return id->kind == IDENT_KEY ? err_set(e, ERR_INVALID_API_KEY, "unknown API key")
                                 : err_set(e, ERR_INVALID_TOKEN, "unknown user");
}

/* PostgreSQL is down: the identity is served from its last known copy, so
 * callers keep working through an outage longer than the cache TTL. A key
 * revoked since says so in the copy too (key_revoke.h), and is refused.
 * Returns ERR_OK when a copy was restored. */
static int cache_restore_stale(struct request *req, const char *key, struct err *e)
{
    struct kv *kv = gateway_kv(req->gw, e);
    char stale[128], ttl[24];
    cJSON *r = NULL;
    int copied;

    if (kv == NULL)
        return e->code;
    snprintf(stale, sizeof stale, "stale:%s", key);
    if (kv_call(kv, 3, (const char *[]){"COPY", stale, key}, NULL, &r, e) != ERR_OK)
        return e->code;
    copied = cJSON_IsNumber(r) && r->valuedouble == 1;
    cJSON_Delete(r);
    if (!copied)
        return ERR_DATABASE_UNAVAILABLE;
    snprintf(ttl, sizeof ttl, "%ld", req->gw->cfg->auth_cache_ttl_s);
    kv_call(kv, 3, (const char *[]){"EXPIRE", key, ttl}, NULL, NULL, e);
    log_event(LOG_WARN, "identity_served_stale", "request_id", req->request_id);
    return ERR_OK;
}

/* API keys PostgreSQL does not know, per client address (unknown_key.lua):
 * op "take" before the identity query of a key missing from the cache (a
 * key known in the last 24 h takes nothing), "give" after it when the key
 * was found. Returns 1; 0 when refused (e: 429, headers set); -1 on a
 * Redis error (e set). *taken says whether a token was taken. */
static int unknown_keys(struct request *req, const struct identity *id, const char *op,
                        int *taken, struct err *e)
{
    char addr[CIDR_TEXT_MAX + 8], bucket[CIDR_TEXT_MAX + 32], stale[128], a[2][24];
    struct kv *kv;
    cJSON *r = NULL;
    int allowed;

    request_client_bucket(req, addr, sizeof addr);
    snprintf(bucket, sizeof bucket, "rl:ip:%s:unknown_key", addr);
    snprintf(stale, sizeof stale, "stale:%s", id->cache_key);
    snprintf(a[0], sizeof a[0], "%.6g", plans_unknown_keys_per_ip.burst);
    snprintf(a[1], sizeof a[1], "%.6g", plans_unknown_keys_per_ip.per_min);
    if ((kv = gateway_kv(req->gw, e)) == NULL ||
        kv_eval(kv, &job_script_unknown_key, 2, 5, (const char *[]){bucket, stale, a[0], a[1], op},
                NULL, &r, e) != ERR_OK)
        return -1;
    /* Reply: {allowed, limit, remaining, reset, retry_after, taken}. */
    allowed = gate_reply_num(r, 0) != 0;
    if (taken != NULL)
        *taken = gate_reply_num(r, 5) > 0;
    if (!allowed)
        gate_limited(req, r, 1, "too many unknown API keys from this address", e);
    cJSON_Delete(r);
    return allowed;
}

int auth_fill_cache(struct request *req, const struct identity *id, struct err *e)
{
    struct db *db = gateway_db(req->gw, e);
    cJSON *ident = NULL;
    int rc, taken = 0;

    if (db == NULL)
        return cache_restore_stale(req, id->cache_key, e) == ERR_OK ? ERR_OK : e->code;
    if (id->kind == IDENT_KEY && unknown_keys(req, id, "take", &taken, e) != 1)
        return e->code;
    switch (id->kind) {
    case IDENT_KEY:
        rc = db_query_json(db, "SELECT ci_key_identity($1)", 1, (const char *[]){id->key_hash},
                           &ident, e);
        break;
    case IDENT_USER:
        rc = db_query_json(db, "SELECT ci_user_identity($1::uuid)", 1,
                           (const char *[]){id->user_id}, &ident, e);
        break;
    default:
        rc = db_query_json(db, "SELECT ci_external_user($1, $2)", 2,
                           (const char *[]){id->ext_sub, id->ext_email}, &ident, e);
        break;
    }
    if (taken && (rc != ERR_OK || ident != NULL)) {
        struct err ignored;     /* only "no such key" keeps the token spent */

        unknown_keys(req, id, "give", NULL, &ignored);
    }
    if (rc == ERR_DATABASE_UNAVAILABLE) {
        struct err keep = *e;
        if (cache_restore_stale(req, id->cache_key, e) == ERR_OK)
            return ERR_OK;
        *e = keep;
        return rc;
    }
    if (rc != ERR_OK)
        return rc;
    if (ident == NULL) {
        /* Remembered, so repeating the credential does not ask again; a
         * token taken above stays spent. */
        if (cache_write_unknown(req, id->cache_key, e) != ERR_OK) {
            struct log_line l;
            log_begin(&l, LOG_WARN, "identity_unknown_not_cached");
            log_str(&l, "request_id", req->request_id);
            log_errfields(&l, e);
            log_end(&l);
        }
        return auth_unknown_error(id, e);
    }
    rc = cache_write(req, id->cache_key, ident, e);
    cJSON_Delete(ident);
    return rc;
}

/* 1 known, 0 not in the cache (a miss), -1 revoked, known not to exist or
 * Redis error (e set). */
static int cache_state(struct request *req, const struct identity *id, struct err *e)
{
    struct kv *kv = gateway_kv(req->gw, e);
    cJSON *r = NULL;
    const cJSON *user, *revoked;
    int state;

    if (kv == NULL ||
        kv_call(kv, 5, (const char *[]){"HMGET", id->cache_key, "user_id", "revoked", "unknown"},
                NULL, &r, e) != ERR_OK)
        return -1;
    user = cJSON_GetArrayItem(r, 0);
    revoked = cJSON_GetArrayItem(r, 1);
    if (cJSON_IsString(revoked) && strcmp(revoked->valuestring, "1") == 0) {
        err_set(e, ERR_REVOKED_API_KEY, "this API key was revoked");
        state = -1;
    } else if (cJSON_IsString(cJSON_GetArrayItem(r, 2))) {
        auth_unknown_error(id, e);
        state = -1;
    } else {
        state = cJSON_IsString(user) ? 1 : 0;
    }
    cJSON_Delete(r);
    return state;
}

int auth_known_or_respond(struct request *req, const struct identity *id)
{
    struct err e;
    int state;

    err_clear(&e);
    state = cache_state(req, id, &e);
    /* A miss is filled and read again; the entry may expire in between
     * (CODEINSIGHT_AUTH_CACHE_TTL may be 1 s): once more, then 503. */
    for (int fills = 0; state == 0 && fills < 2; fills++)
        state = auth_fill_cache(req, id, &e) == ERR_OK ? cache_state(req, id, &e) : -1;
    if (state == 0)
        err_set(&e, ERR_SERVER_BUSY, "the identity cache entry expired as it was filled");
    if (state == 1)
        return 0;
    if (err_http_status(e.code) == 401)
        auth_respond_401(req, &e);
    else {
        if (err_http_status(e.code) == 503)
            respond_header(req, "Retry-After", "2");
        respond_error(req, &e);
    }
    return -1;
}
