/* jwks.c - JWKS cache: reference-counted immutable key sets behind an rwlock. */
#include "common/jwks.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/pkey.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest kid kept, bytes excluding the NUL (as struct jwt_claims.kid). */
#define JWKS_KID_MAX 127

struct jwks_key {
    char kid[JWKS_KID_MAX + 1];     /* "" when has_kid is 0 */
    int has_kid;
    struct pkey *key;               /* owns */
};

/* One loaded document's keys; never modified once published. */
struct jwks_set {
    atomic_int refs;                /* the jwks' own reference plus one per user */
    uint64_t gen;                   /* increases with every set published */
    int64_t loaded_ms;              /* monotonic time it was published */
    int64_t max_age_ms;             /* refetched once this old; INT64_MAX: never */
    size_t n;
    struct jwks_key keys[];         /* n used */
};

struct jwks {
    char *url;                      /* owns; NULL for a static set */
    int64_t min_refresh_ms;
    int64_t max_age_ms;             /* 0: sets never age */
    pthread_rwlock_t lock;          /* guards set and gen; held only for pointer swaps */
    struct jwks_set *set;           /* one reference owned; NULL while empty */
    uint64_t gen;                   /* gen of the last set published */
    /* Serialises fetches. Held during the HTTP fetch, so never taken while
     * holding lock (jwks_load_json takes lock under it, never the reverse). */
    pthread_mutex_t fetch_mu;
    int fetched;                    /* under fetch_mu: a fetch was attempted */
    int64_t last_fetch_ms;          /* under fetch_mu: monotonic start of the last one */
};

static void set_release(struct jwks_set *s)
{
    if (s == NULL || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        pkey_free(s->keys[i].key);
    free(s);
}

/* The current set with a reference taken (release with set_release()), or NULL. */
static struct jwks_set *set_acquire(struct jwks *k)
{
    struct jwks_set *s;

    pthread_rwlock_rdlock(&k->lock);
    s = k->set;
    if (s != NULL)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_rwlock_unlock(&k->lock);
    return s;
}

static uint64_t current_gen(struct jwks *k)
{
    uint64_t g;

    pthread_rwlock_rdlock(&k->lock);
    g = k->gen;
    pthread_rwlock_unlock(&k->lock);
    return g;
}

struct jwks *jwks_new(const char *url, int min_refresh_s, int max_age_s)
{
    struct jwks *k = calloc(1, sizeof *k);
    pthread_rwlockattr_t attr;

    if (k == NULL)
        return NULL;
    if (url != NULL && (k->url = strdup(url)) == NULL) {
        free(k);
        return NULL;
    }
    k->min_refresh_ms = min_refresh_s > 0 ? (int64_t)min_refresh_s * 1000 : 0;
    k->max_age_ms = max_age_s > 0 ? (int64_t)max_age_s * 1000 : 0;
    /* glibc prefers readers by default: with verifications in every thread a
     * key swap could wait indefinitely. */
    if (pthread_rwlockattr_init(&attr) != 0) {
        free(k->url);
        free(k);
        return NULL;
    }
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&k->lock, &attr) != 0) {
        pthread_rwlockattr_destroy(&attr);
        free(k->url);
        free(k);
        return NULL;
    }
    pthread_rwlockattr_destroy(&attr);
    if (pthread_mutex_init(&k->fetch_mu, NULL) != 0) {
        pthread_rwlock_destroy(&k->lock);
        free(k->url);
        free(k);
        return NULL;
    }
    return k;
}

static void log_key_ignored(const char *kid, const char *reason)
{
    struct log_line l;

    log_begin(&l, LOG_WARN, "jwks_key_ignored");
    log_str(&l, "kid", kid);
    log_str(&l, "reason", reason);
    log_end(&l);
}

/* 1 when a JWK is meant for RS256/ES256 signature verification; keys for
 * other uses or algorithms are routine in a JWKS and skipped silently. */
static int jwk_for_us(const cJSON *jwk)
{
    const char *kty = json_str(jwk, "kty");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(jwk, "key_ops");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    const char *want;

    if (kty == NULL)
        return 0;
    if (strcmp(kty, "RSA") == 0) {
        want = "RS256";
    } else if (strcmp(kty, "EC") == 0) {
        const char *crv = json_str(jwk, "crv");
        if (crv == NULL || strcmp(crv, "P-256") != 0)
            return 0;
        want = "ES256";
    } else {
        return 0;
    }
    if (use != NULL && !(cJSON_IsString(use) && strcmp(use->valuestring, "sig") == 0))
        return 0;
    if (ops != NULL) {
        const cJSON *op;
        int verify = 0;

        if (!cJSON_IsArray(ops))
            return 0;
        cJSON_ArrayForEach(op, ops)
            if (cJSON_IsString(op) && strcmp(op->valuestring, "verify") == 0)
                verify = 1;
        if (!verify)
            return 0;
    }
    if (alg != NULL && !(cJSON_IsString(alg) && strcmp(alg->valuestring, want) == 0))
        return 0;
    return 1;
}

/* Adds jwk to s when usable (logging why not otherwise). */
static void set_add(struct jwks_set *s, const cJSON *jwk)
{
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
    struct jwks_key *slot = &s->keys[s->n];
    struct err e;

    if (!cJSON_IsObject(jwk)) {
        log_key_ignored(NULL, "not a JSON object");
        return;
    }
    if (!jwk_for_us(jwk))
        return;
    if (kid != NULL && (!cJSON_IsString(kid) || strlen(kid->valuestring) > JWKS_KID_MAX)) {
        log_key_ignored(NULL, "kid not a string or too long");
        return;
    }
    if (kid != NULL) {
        for (size_t i = 0; i < s->n; i++)
            if (s->keys[i].has_kid && strcmp(s->keys[i].kid, kid->valuestring) == 0) {
                log_key_ignored(kid->valuestring, "duplicate kid");
                return;
            }
    }
    err_clear(&e);
    slot->key = pkey_from_jwk(jwk, &e);
    if (slot->key == NULL) {
        log_key_ignored(kid ? kid->valuestring : NULL, e.msg);
        return;
    }
    slot->has_kid = kid != NULL;
    if (kid != NULL)
        memcpy(slot->kid, kid->valuestring, strlen(kid->valuestring) + 1);
    s->n++;
}

/* Publishes s (takes the caller's reference) as the current set. */
static void set_publish(struct jwks *k, struct jwks_set *s)
{
    struct jwks_set *old;

    s->loaded_ms = clock_mono_ms();
    pthread_rwlock_wrlock(&k->lock);
    old = k->set;
    s->gen = ++k->gen;
    k->set = s;
    pthread_rwlock_unlock(&k->lock);
    /* Verifications still holding the old set keep it alive until they end. */
    set_release(old);
}

/* The age at which a set loaded now is refetched, before any Cache-Control. */
static int64_t default_max_age_ms(const struct jwks *k)
{
    return k->url != NULL && k->max_age_ms > 0 ? k->max_age_ms : INT64_MAX;
}

/* jwks_load_json() for a set refetched once max_age_ms old. */
static int load_json(struct jwks *k, const char *json, size_t len, int64_t max_age_ms,
                     struct err *e)
{
    cJSON *doc = cJSON_ParseWithLength(json, len);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
    const cJSON *jwk;
    struct jwks_set *s = NULL;
    size_t kept = 0;
    int rc;

    if (!cJSON_IsObject(doc) || !cJSON_IsArray(keys)) {
        rc = err_set(e, ERR_PROTOCOL, "JWKS is not a JSON object with a keys array");
        goto out;
    }
    s = calloc(1, sizeof *s + JWKS_MAX_KEYS * sizeof s->keys[0]);
    if (s == NULL) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    atomic_init(&s->refs, 1);
    cJSON_ArrayForEach(jwk, keys) {
        if (s->n == JWKS_MAX_KEYS) {
            log_key_ignored(NULL, "more than JWKS_MAX_KEYS keys");
            break;
        }
        set_add(s, jwk);
    }
    /* Without kids, which of several keys signed a token is a guess. */
    if (s->n > 1) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->keys[i].has_kid) {
                s->keys[kept++] = s->keys[i];
            } else {
                log_key_ignored(NULL, "no kid in a set of several keys");
                pkey_free(s->keys[i].key);
            }
        }
        s->n = kept;
    }
    if (s->n == 0) {
        rc = err_set(e, ERR_PROTOCOL, "JWKS has no usable RS256/ES256 key");
        goto out;
    }
    s->max_age_ms = max_age_ms;
    set_publish(k, s);
    s = NULL;
    rc = ERR_OK;
out:
    set_release(s);
    cJSON_Delete(doc);
    return rc;
}

int jwks_load_json(struct jwks *k, const char *json, size_t len, struct err *e)
{
    return load_json(k, json, len, default_max_age_ms(k), e);
}

/* 1 when the directive d[0..n) is name (case-insensitive, as RFC 9111 says). */
static int directive_is(const char *d, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(d, name, n) == 0;
}

/* The delta-seconds v[0..n) (digits only, or quoted: RFC 9111 asks
 * recipients to take "60" as 60), LONG_MAX when too large for a long (a too
 * large value means "very long", not an error), or -1 when malformed ("",
 * "-1", "+5", "5x", "\"6\"0"). */
static long delta_seconds(const char *v, size_t n)
{
    char *end;
    long x;

    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n == 0 || v[0] < '0' || v[0] > '9')
        return -1;
    errno = 0;
    x = strtol(v, &end, 10);
    if (end != v + n)
        return -1;
    return errno == ERANGE ? LONG_MAX : x;
}

/* Seconds a response with Cache-Control cc may be cached for: the smaller of
 * max-age and s-maxage (both are the IdP's word on how fresh the keys are; we
 * take the stricter), 0 with no-cache or no-store, -1 when cc says none of
 * these usably (malformed values are ignored, the header then too). */
static long cache_control_s(const char *cc)
{
    long best = -1;
    int none = 0;

    while (*cc != '\0') {
        size_t n = strcspn(cc, ","), name;
        const char *d = cc;

        cc += n + (cc[n] == ',');
        while (n > 0 && (*d == ' ' || *d == '\t')) {
            d++;
            n--;
        }
        while (n > 0 && (d[n - 1] == ' ' || d[n - 1] == '\t'))
            n--;
        name = strcspn(d, "=, \t");
        if (name > n)
            name = n;
        if (directive_is(d, name, "no-cache") || directive_is(d, name, "no-store")) {
            none = 1;
        } else if ((directive_is(d, name, "max-age") || directive_is(d, name, "s-maxage")) &&
                   name < n && d[name] == '=') {
            long x = delta_seconds(d + name + 1, n - name - 1);

            if (x >= 0 && (best < 0 || x < best))
                best = x;
        }
    }
    return none ? 0 : best;
}

/* The age at which a set just fetched is refetched: the IdP's Cache-Control
 * when it says sooner than max_age_s (it knows its rotation schedule), but
 * never sooner than min_refresh_s, which the refetch would wait for anyway. A
 * set that never ages (max_age_s 0) is not made to age by a header. */
static int64_t fetched_max_age_ms(const struct jwks *k, const struct http_header *cc)
{
    int64_t age = default_max_age_ms(k);
    long s;

    if (age == INT64_MAX || !cc->found || cc->too_long)
        return age;
    s = cache_control_s(cc->value);
    if (s < 0)
        return age;
    if (s < age / 1000)
        age = (int64_t)s * 1000;
    return age < k->min_refresh_ms ? k->min_refresh_ms : age;
}

/* Fetches and loads the JWKS; the caller holds fetch_mu. Logs the outcome
 * with why it was fetched (reason, static). */
static int fetch_locked(struct jwks *k, const char *reason, struct err *e)
{
    char *body = NULL;
    size_t len = 0;
    long status = 0;
    struct http_header cc = {.name = "Cache-Control"};
    struct log_line l;
    int64_t max_age_ms = 0;
    int rc;

    k->fetched = 1;
    k->last_fetch_ms = clock_mono_ms();
    rc = http_get(k->url, JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_BYTES, &body, &len, &status, &cc, e);
    if (rc == ERR_OK && status != 200)
        rc = err_set(e, ERR_PROTOCOL, "JWKS fetch: HTTP status %ld", status);
    if (rc == ERR_OK) {
        max_age_ms = fetched_max_age_ms(k, &cc);
        rc = load_json(k, body, len, max_age_ms, e);
    }
    free(body);
    if (rc != ERR_OK) {
        log_begin(&l, LOG_WARN, "jwks_fetch_failed");
        log_str(&l, "url", k->url);
        log_str(&l, "reason", reason);
        if (status != 0)
            log_int(&l, "http_status", status);
        log_errfields(&l, e);
        log_end(&l);
    } else {
        log_begin(&l, LOG_INFO, "jwks_fetched");
        log_str(&l, "url", k->url);
        log_str(&l, "reason", reason);
        log_int(&l, "keys", (int64_t)jwks_key_count(k));
        if (max_age_ms != INT64_MAX)
            log_int(&l, "max_age_s", max_age_ms / 1000);
        log_end(&l);
    }
    return rc;
}

int jwks_refresh(struct jwks *k, struct err *e)
{
    struct err local;
    int rc;

    if (k->url == NULL)
        return err_set(e, ERR_INTERNAL, "jwks_refresh: static key set has no url");
    /* fetch_locked logs through log_errfields, so it needs an err to fill. */
    err_clear(&local);
    pthread_mutex_lock(&k->fetch_mu);
    rc = fetch_locked(k, "refresh", &local);
    pthread_mutex_unlock(&k->fetch_mu);
    if (e != NULL)
        *e = local;
    return rc;
}

/* After a miss on the set of generation seen: refetches unless another thread
 * published a newer set meanwhile or the last fetch is too recent. Returns 1
 * when the caller should look again, 0 when nothing changed. */
static int refetch_on_miss(struct jwks *k, uint64_t seen)
{
    struct err e;
    int again = 0;

    err_clear(&e);
    /* Concurrent misses queue here behind one fetch rather than each fetching. */
    pthread_mutex_lock(&k->fetch_mu);
    if (current_gen(k) != seen)
        again = 1;
    else if (!k->fetched || clock_mono_ms() - k->last_fetch_ms >= k->min_refresh_ms)
        again = fetch_locked(k, "unknown_kid", &e) == ERR_OK;
    pthread_mutex_unlock(&k->fetch_mu);
    return again;
}

/* 1 when s is as old as its max_age_ms or older (never for a static set). */
static int set_expired(const struct jwks_set *s)
{
    return s != NULL && clock_mono_ms() - s->loaded_ms >= s->max_age_ms;
}

/* s (generation seen) is too old: refetches unless another thread is
 * fetching (it gets the new set; this verification uses the one at hand
 * rather than wait), published a newer set meanwhile, or the last fetch is
 * too recent. A failure keeps the old set, logged by fetch_locked: an IdP
 * outage must not refuse every token. */
static void refetch_expired(struct jwks *k, uint64_t seen)
{
    struct err e;

    if (pthread_mutex_trylock(&k->fetch_mu) != 0)
        return;
    err_clear(&e);
    if (current_gen(k) == seen && clock_mono_ms() - k->last_fetch_ms >= k->min_refresh_ms)
        fetch_locked(k, "max_age", &e);
    pthread_mutex_unlock(&k->fetch_mu);
}

/* The key for kid in s (see jwks_verify()), or NULL. Borrowed from s. */
static const struct jwks_key *set_find(const struct jwks_set *s, const char *kid)
{
    if (s == NULL)
        return NULL;
    /* A token naming a kid the set lacks is a miss, even against a set of one
     * kid-less key: the miss is what refetches a rotated set. */
    if (kid != NULL) {
        for (size_t i = 0; i < s->n; i++)
            if (s->keys[i].has_kid && strcmp(s->keys[i].kid, kid) == 0)
                return &s->keys[i];
        return NULL;
    }
    return s->n == 1 ? &s->keys[0] : NULL;
}

int jwks_verify(struct jwks *k, const char *kid, const char *alg, const void *msg, size_t len,
                const unsigned char *sig, size_t sig_len, struct err *e)
{
    struct jwks_set *s;
    const struct jwks_key *key;
    int rc;

    if (alg == NULL || (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0))
        return err_set(e, ERR_TOKEN_ALG_NOT_ALLOWED, "token alg not allowed");
    s = set_acquire(k);
    if (set_expired(s)) {
        uint64_t seen = s->gen;

        set_release(s);
        refetch_expired(k, seen);
        s = set_acquire(k);
    }
    key = set_find(s, kid);
    if (key == NULL && k->url != NULL) {
        uint64_t seen = s != NULL ? s->gen : 0;

        set_release(s);
        s = NULL;
        if (refetch_on_miss(k, seen)) {
            s = set_acquire(k);
            key = set_find(s, kid);
        }
    }
    if (key == NULL)
        rc = err_set(e, ERR_TOKEN_UNKNOWN_KID, "no JWKS key for the token's kid");
    else if (strcmp(pkey_alg(key->key), alg) != 0)
        rc = err_set(e, ERR_TOKEN_ALG_NOT_ALLOWED, "token alg does not match its key");
    else if (!pkey_verify(key->key, alg, msg, len, sig, sig_len))
        rc = err_set(e, ERR_INVALID_TOKEN, "token signature invalid");
    else
        rc = ERR_OK;
    set_release(s);
    return rc;
}

size_t jwks_key_count(struct jwks *k)
{
    struct jwks_set *s = set_acquire(k);
    size_t n = s != NULL ? s->n : 0;

    set_release(s);
    return n;
}

void jwks_free(struct jwks *k)
{
    if (k == NULL)
        return;
    set_release(k->set);
    pthread_mutex_destroy(&k->fetch_mu);
    pthread_rwlock_destroy(&k->lock);
    free(k->url);
    free(k);
}
