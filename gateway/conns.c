/* conns.c - one Redis and one PostgreSQL connection per request thread, so no
 * request waits on another's connection or on a lock. */
#include "gateway/gateway.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/db.h"
#include "common/err.h"
#include "common/kv.h"
#include "common/log.h"

#include <stdlib.h>

/* Blocking calls never wait longer than this. */
#define CONNS_TIMEOUT_MS 2000
/* After a failed connect, answer at once for this long instead of retrying. */
#define CONNS_RETRY_MS 250

struct conns {
    struct kv *kv;
    struct db *db;
    int64_t kv_retry_at;            /* monotonic ms */
    int64_t kv_failed_at;
    int64_t db_retry_at;
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

struct db *gateway_db(struct gateway *gw, struct err *e)
{
    struct conns *c = conns_get(gw);
    int64_t now;

    if (c == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (c->db != NULL)
        return c->db;
    now = clock_mono_ms();
    if (now < c->db_retry_at) {
        err_set(e, ERR_DATABASE_UNAVAILABLE, "postgres is unreachable; retrying shortly");
        return NULL;
    }
    c->db = db_connect(gw->cfg->database_url, &gw->db_abort, e);
    if (c->db == NULL) {
        c->db_retry_at = now + CONNS_RETRY_MS;
        conns_log_down("postgres_unavailable", e);
    }
    return c->db;
}
