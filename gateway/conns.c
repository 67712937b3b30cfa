/* conns.c - one Redis and one PostgreSQL connection per request thread, so no
 * request waits on another's connection or on a lock. */
#include "gateway/gateway.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/db.h"
#include "common/err.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/migrate.h"

#include <stdio.h>
#include <stdlib.h>

/* Blocking calls never wait longer than this. */
#define CONNS_TIMEOUT_MS 2000
/* After a failed connect, answer at once for this long instead of retrying. */
#define CONNS_RETRY_MS 250
/* After a schema found older than this build needs, answer at once for this
 * long before reading its version again. */
#define CONNS_SCHEMA_RETRY_MS 1000

struct conns {
    struct kv *kv;
    struct db *db;
    int64_t kv_retry_at;            /* monotonic ms */
    int64_t kv_failed_at;
    int64_t db_retry_at;
    unsigned long db_checked;       /* db_connects(db) when its schema was accepted; 0: not */
    int64_t schema_retry_at;        /* monotonic ms */
    int schema_outdated;            /* the last refusal was the schema's */
    char schema_why[ERR_MSG_MAX];   /* its reason */
};

static void conns_free(void *p)
{
    struct conns *c = p;

    if (c == NULL)
        return;
    kv_free(c->kv);
    db_free(c->db);
    free(c);
}

int gateway_conns_init(struct gateway *gw)
{
    return pthread_key_create(&gw->conns_key, conns_free) == 0 ? 0 : -1;
}

void gateway_conns_cleanup(struct gateway *gw)
{
    conns_free(pthread_getspecific(gw->conns_key));
    pthread_setspecific(gw->conns_key, NULL);
}

static struct conns *conns_get(struct gateway *gw)
{
    struct conns *c = pthread_getspecific(gw->conns_key);

    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c != NULL && pthread_setspecific(gw->conns_key, c) != 0) {
            free(c);
            c = NULL;
        }
    }
    return c;
}

static void conns_log_down(const char *event, const struct err *e)
{
    struct log_line l;

    log_begin(&l, LOG_WARN, event);
    log_errfields(&l, e);
    log_end(&l);
}

struct kv *gateway_kv(struct gateway *gw, struct err *e)
{
    struct conns *c = conns_get(gw);
    int64_t now;

    if (c == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (c->kv != NULL && !kv_broken(c->kv))
        return c->kv;
    kv_free(c->kv);
    c->kv = NULL;
    now = clock_mono_ms();
    /* Another thread connecting since this one failed means Redis is back. */
    if (now < c->kv_retry_at &&
        __atomic_load_n(&gw->kv_connected_at, __ATOMIC_ACQUIRE) <= c->kv_failed_at) {
        err_set(e, ERR_REDIS_UNAVAILABLE, "redis is unreachable; retrying shortly");
        return NULL;
    }
    c->kv = kv_connect(&gw->kv_url, CONNS_TIMEOUT_MS, e);
    if (c->kv == NULL) {
        c->kv_failed_at = now;
        c->kv_retry_at = now + CONNS_RETRY_MS;
        conns_log_down("redis_unavailable", e);
    } else {
        __atomic_store_n(&gw->kv_connected_at, now, __ATOMIC_RELEASE);
    }
    return c->kv;
}

/* Whether c->db's database has the schema this build needs (or a later
 * one), read at its first use after each (re)connection, and again at most
 * every CONNS_SCHEMA_RETRY_MS while it does not. 0, or -1 with e set. */
static int conns_schema(struct conns *c, int64_t now, struct err *e)
{
    if (c->db_checked == db_connects(c->db))
        return 0;
    c->db_checked = 0;
    if (c->schema_outdated && now < c->schema_retry_at) {
        err_set(e, ERR_DATABASE_UNAVAILABLE, "%s", c->schema_why);
        return -1;
    }
    switch (migrate_schema_check(c->db, e)) {
    case ERR_OK:
        break;
    case ERR_NOT_READY:
        /* To the handlers, as PostgreSQL away: they answer or degrade as in
         * an outage, never with a missing column's error. */
        c->schema_outdated = 1;
        c->schema_retry_at = now + CONNS_SCHEMA_RETRY_MS;
        snprintf(c->schema_why, sizeof c->schema_why, "%s", e->msg);
        err_set(e, ERR_DATABASE_UNAVAILABLE, "%s", c->schema_why);
        return -1;
    default:
        c->schema_outdated = 0;     /* an outage: the next call looks again */
        return -1;
    }
    c->schema_outdated = 0;
    c->db_checked = db_connects(c->db);
    return 0;
}

struct db *gateway_db(struct gateway *gw, struct err *e)
{
    struct conns *c = conns_get(gw);
    int64_t now;

    if (c == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (c->db != NULL && c->db_checked == db_connects(c->db))
        return c->db;
    now = clock_mono_ms();
    if (c->db == NULL) {
        if (now < c->db_retry_at) {
            err_set(e, ERR_DATABASE_UNAVAILABLE, "postgres is unreachable; retrying shortly");
            return NULL;
        }
        c->db = db_connect(gw->cfg->database_url, &gw->db_abort, e);
        if (c->db == NULL) {
            c->db_retry_at = now + CONNS_RETRY_MS;
            conns_log_down("postgres_unavailable", e);
            return NULL;
        }
    }
    return conns_schema(c, now, e) == 0 ? c->db : NULL;
}

int gateway_db_outdated(struct gateway *gw)
{
    struct conns *c = pthread_getspecific(gw->conns_key);

    return c != NULL && c->schema_outdated;
}
