/* ident_cache.c - local identities and leased tokens (see the header). */
#include "gateway/ident_cache.h"

#include "common/strhash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDC_SHARDS 64               /* locks; slot i uses lock i % IDC_SHARDS */
#define IDC_KEY_MAX 96              /* struct identity's cache_key */

struct lease {
    long left;                      /* tokens taken from Redis, not yet spent */
    long limit, remaining, reset;   /* the bucket as the last script saw it */
};

struct slot {
    char key[IDC_KEY_MAX];          /* "" when empty */
    int64_t fetched_ms;             /* when the identity was read from Redis */
    struct idc_admitted id;         /* limit/remaining/reset unused here */
    long burst[RC__COUNT];
    struct lease lease[RC__COUNT];
};

struct idc {
    long ttl_ms;
    pthread_mutex_t locks[IDC_SHARDS];
    /* Forgets so far per shard (guarded by its lock): a script reply asked
     * for at an older generation may predate a revocation. */
    uint64_t gen[IDC_SHARDS];
    struct slot slots[IDC_SLOTS];
};

struct idc *idc_new(long ttl_ms)
{
    struct idc *c;

    if (ttl_ms <= 0 || (c = calloc(1, sizeof *c)) == NULL)
        return NULL;
    c->ttl_ms = ttl_ms;
    for (int i = 0; i < IDC_SHARDS; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    return c;
}

void idc_free(struct idc *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < IDC_SHARDS; i++)
        pthread_mutex_destroy(&c->locks[i]);
    free(c);
}

long idc_lease_size(long burst)
{
    long n = burst / IDC_LEASE_DIV;

    if (n < 2)
        return 1;
    return n > IDC_LEASE_MAX ? IDC_LEASE_MAX : n;
}

/* The keys already end in a SHA-256 or a UUID. */
static unsigned slot_of(const char *key)
{
    return (unsigned)(strhash(key) % IDC_SLOTS);
}

static pthread_mutex_t *lock_of(struct idc *c, unsigned i)
{
    return &c->locks[i % IDC_SHARDS];
}

static void fill(struct idc_admitted *out, const struct slot *s, const struct lease *l)
{
    *out = s->id;
    out->limit = l->limit;
    out->remaining = l->remaining + l->left;
    out->reset = l->reset;
}

int idc_admit(struct idc *c, const char *cache_key, enum route_class rc, int64_t now_ms,
              struct idc_admitted *out, struct idc_ask *ask)
{
    unsigned i;
    struct slot *s;
    int admitted = 0;

    ask->want = 1;
    ask->want_identity = c != NULL;
    ask->gen = 0;
    if (c == NULL || (unsigned)rc >= RC__COUNT)
        return 0;
    i = slot_of(cache_key);
    s = &c->slots[i];
    pthread_mutex_lock(lock_of(c, i));
    ask->gen = c->gen[i % IDC_SHARDS];
    if (strcmp(s->key, cache_key) == 0) {
        int fresh = now_ms - s->fetched_ms < c->ttl_ms && now_ms >= s->fetched_ms;
        if (fresh && s->lease[rc].left > 0) {
            s->lease[rc].left--;
            fill(out, s, &s->lease[rc]);
            admitted = 1;
        } else {
            /* Tokens still held (a stale copy) are spent once it is
             * refreshed; no new lease meanwhile, so a replica never holds
             * more than one. */
            ask->want = s->lease[rc].left > 0 ? 1 : idc_lease_size(s->burst[rc]);
            ask->want_identity = !fresh;
        }
    }
    pthread_mutex_unlock(lock_of(c, i));
    return admitted;
}

/* A field of an HGETALL reply (flat name/value array), or NULL. */
static const char *field(const cJSON *flat, const char *name)
{
    for (const cJSON *it = flat ? flat->child : NULL; it != NULL && it->next != NULL;
         it = it->next->next)
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return cJSON_IsString(it->next) ? it->next->valuestring : NULL;
    return NULL;
}

static long num(const cJSON *flat, const char *name)
{
    const char *v = field(flat, name);

    return v != NULL ? (long)strtod(v, NULL) : 0;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Reads an identity hash into s; 0 when it lacks a user. */
static int load(struct slot *s, const cJSON *flat)
{
    const char *user = field(flat, "user_id"), *role = field(flat, "operator");

    if (user == NULL || user[0] == '\0')
        return 0;
    copy(s->id.user_id, sizeof s->id.user_id, user);
    copy(s->id.key_id, sizeof s->id.key_id, field(flat, "key_id"));
    copy(s->id.email, sizeof s->id.email, field(flat, "email"));
    copy(s->id.plan, sizeof s->id.plan, field(flat, "plan"));
    s->id.is_operator = role != NULL && strcmp(role, "1") == 0;
    s->id.budget = field(flat, "budget") ? strtoll(field(flat, "budget"), NULL, 10) : 0;
    for (int rc = 0; rc < RC__COUNT; rc++) {
        char name[32];
        snprintf(name, sizeof name, "%s_burst", plans_class_str((enum route_class)rc));
        s->burst[rc] = num(flat, name);
    }
    return 1;
}

void idc_record(struct idc *c, const char *cache_key, uint64_t gen, const cJSON *identity,
                enum route_class rc, long taken, long limit, long remaining, long reset,
                int64_t now_ms, struct idc_admitted *out)
{
    unsigned i;
    struct slot *s;
    struct lease *l;

    if (out != NULL) {
        out->limit = limit;
        out->remaining = remaining;
        out->reset = reset;
    }
    if (c == NULL || (unsigned)rc >= RC__COUNT || strlen(cache_key) >= IDC_KEY_MAX)
        return;
    i = slot_of(cache_key);
    s = &c->slots[i];
    pthread_mutex_lock(lock_of(c, i));
    if (c->gen[i % IDC_SHARDS] != gen) {
        /* A revocation was recorded after this reply was asked for: the
         * reply may say "not revoked", so it must not bring the copy back. */
        pthread_mutex_unlock(lock_of(c, i));
        return;
    }
    if (strcmp(s->key, cache_key) != 0) {
        /* Another identity's slot is taken over only with a whole identity. */
        struct slot fresh;
        memset(&fresh, 0, sizeof fresh);
        if (identity == NULL || !load(&fresh, identity)) {
            pthread_mutex_unlock(lock_of(c, i));
            return;
        }
        copy(fresh.key, sizeof fresh.key, cache_key);
        fresh.fetched_ms = now_ms;
        *s = fresh;
    } else if (identity != NULL) {
        if (load(s, identity))
            s->fetched_ms = now_ms;
    }
    l = &s->lease[rc];
    if (taken > 1)
        l->left += taken - 1;
    l->limit = limit;
    l->remaining = remaining;
    l->reset = reset;
    if (out != NULL)
        fill(out, s, l);
    pthread_mutex_unlock(lock_of(c, i));
}

void idc_forget(struct idc *c, const char *cache_key)
{
    unsigned i;

    if (c == NULL)
        return;
    i = slot_of(cache_key);
    pthread_mutex_lock(lock_of(c, i));
    c->gen[i % IDC_SHARDS]++;
    if (strcmp(c->slots[i].key, cache_key) == 0)
        memset(&c->slots[i], 0, sizeof c->slots[i]);
    pthread_mutex_unlock(lock_of(c, i));
}

void idc_clear(struct idc *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < IDC_SLOTS; i++) {
        pthread_mutex_lock(lock_of(c, i));
        if (i < IDC_SHARDS)
            c->gen[i]++;
        memset(&c->slots[i], 0, sizeof c->slots[i]);
        pthread_mutex_unlock(lock_of(c, i));
    }
}
