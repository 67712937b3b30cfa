/* db_async.c - libpq's asynchronous API on our loop. */
#include "common/db_async.h"

#include "common/err.h"
#include "common/log.h"
#include "common/loop.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_PARAMS_MAX 16

/* DB_CHECKING: connected, the check query in flight (db_async_set_check).
 * DB_FAILING: the connection broke inside db_async_query; it is dropped
 * (its queries failed) from the loop, by the kick timer. */
enum db_state { DB_DOWN, DB_CONNECTING, DB_CHECKING, DB_READY, DB_FAILING };

struct db_query {
    struct db_query *next;
    char *sql;
    int nparams;
    char *params[DB_PARAMS_MAX];
    db_async_cb *cb;
    void *arg;
};

struct db_async {
    struct loop *loop;
    char *url;
    PGconn *conn;
    int fd;
    struct loop_io *io;
    enum db_state state;
    struct loop_timer *retry;
    struct loop_timer *kick;        /* drops a DB_FAILING connection */
    char why[64];                   /* why it is failing */
    unsigned backoff_ms;
    struct db_query *head, *tail;   /* head is in flight when busy */
    int busy;
    PGresult *first;                /* first result of the query in flight */
    const char *check_sql;          /* borrowed; NULL: connections are not judged */
    db_async_check_cb *check;
    void *check_arg;
};

static void db_connect_start(struct db_async *db);
static void db_pump(struct db_async *db, int in_call);

static void query_free(struct db_query *q)
{
    free(q->sql);
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i]);
    free(q);
}

static void db_log(enum log_level lvl, const char *event, const char *msg)
{
    struct log_line l;
    size_t n = strcspn(msg ? msg : "", "\n");

    log_begin(&l, lvl, event);
    log_strn(&l, "detail", msg ? msg : "", n);
    log_end(&l);
}

/* Completes the head query and frees it. */
static void db_complete_head(struct db_async *db, const char *value, const struct err *e)
{
    struct db_query *q = db->head;

    db->head = q->next;
    if (db->head == NULL)
        db->tail = NULL;
    db->busy = 0;
    q->cb(q->arg, value, e);
    query_free(q);
}

static void db_fail_all(struct db_async *db, const char *why)
{
    struct err e;

    err_set(&e, ERR_DATABASE_UNAVAILABLE, "postgres: %s", why);
    if (db->first != NULL) {
        PQclear(db->first);
        db->first = NULL;
    }
    while (db->head != NULL)
        db_complete_head(db, NULL, &e);
}

static void db_drop(struct db_async *db, const char *why)
{
    loop_io_free(db->io);
    db->io = NULL;
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db->fd = -1;
    db->state = DB_DOWN;
    db_fail_all(db, why);
    loop_timer_start(db->retry, db->backoff_ms, 0);
    db->backoff_ms = db->backoff_ms * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS
                                                            : db->backoff_ms * 2;
}

static void on_retry(void *arg)
{
    db_connect_start(arg);
}

/* Drops the connection: at once from the loop; inside db_async_query
 * (in_call), from the loop a moment later, so that no callback runs inside
 * that call, as its contract says. */
static void db_break(struct db_async *db, const char *why, int in_call)
{
    if (!in_call) {
        db_drop(db, why);
        return;
    }
    db->state = DB_FAILING;
    snprintf(db->why, sizeof db->why, "%s", why);
    loop_timer_start(db->kick, 0, 0);
}

static void on_kick(void *arg)
{
    struct db_async *db = arg;

    if (db->state == DB_FAILING)
        db_drop(db, db->why);
}

static void db_watch(struct db_async *db, int rd, int wr)
{
    if (db->io != NULL)
        loop_io_want(db->io, rd, wr);
}

static void on_io(void *arg, int readable, int writable);

/* The socket can change while connecting (libpq tries each address). */
static int db_track_socket(struct db_async *db)
{
    int fd = PQsocket(db->conn);

    if (fd == db->fd && db->io != NULL)
        return 0;
    loop_io_free(db->io);
    db->io = NULL;
    db->fd = fd;
    if (fd < 0)
        return -1;
    db->io = loop_io_new(db->loop, fd, on_io, db);
    return db->io ? 0 : -1;
}

static void db_ready(struct db_async *db)
{
    db->state = DB_READY;
    db->backoff_ms = DB_BACKOFF_MIN_MS;
    db_log(LOG_INFO, "postgres_connected", "");
    db_watch(db, 0, 0);
    db_pump(db, 0);
}

/* Sends the check query of a new connection. */
static void db_check_start(struct db_async *db)
{
    int rc;

    db->state = DB_CHECKING;
    if (!PQsendQuery(db->conn, db->check_sql) || (rc = PQflush(db->conn)) < 0) {
        db_log(LOG_WARN, "postgres_send_failed", PQerrorMessage(db->conn));
        db_drop(db, "send failed");
        return;
    }
    db_watch(db, 1, rc == 1);
}

/* Reads the check query's answer (its first result in db->first until it
 * is complete); then lets the callback judge the connection. No query was
 * sent behind it: they wait for DB_READY. */
static void db_check_read(struct db_async *db, int writable)
{
    PGresult *r, *first;
    struct err qe;
    int rc;

    if (writable && (rc = PQflush(db->conn)) != 0) {
        if (rc < 0)
            db_drop(db, "write failed");
        else
            db_watch(db, 1, 1);
        return;
    }
    db_watch(db, 1, 0);
    if (!PQconsumeInput(db->conn)) {
        db_log(LOG_WARN, "postgres_disconnected", PQerrorMessage(db->conn));
        db_drop(db, "connection lost");
        return;
    }
    for (;;) {
        if (PQisBusy(db->conn))
            return;                 /* more to come: db->first keeps the answer */
        if ((r = PQgetResult(db->conn)) == NULL)
            break;
        if (db->first == NULL)
            db->first = r;
        else
            PQclear(r);
    }
    first = db->first;
    db->first = NULL;
    err_clear(&qe);
    if (first == NULL || PQresultStatus(first) != PGRES_TUPLES_OK) {
        const char *m = first ? PQresultErrorMessage(first) : PQerrorMessage(db->conn);
        /* A lost connection is an outage, not the check's answer. */
        err_set(&qe, PQstatus(db->conn) == CONNECTION_OK ? ERR_PROTOCOL
                                                         : ERR_DATABASE_UNAVAILABLE,
                "postgres: %.*s", (int)strcspn(m, "\n"), m);
    }
    rc = db->check(db->check_arg, qe.code == ERR_OK && PQntuples(first) > 0 &&
                   PQnfields(first) > 0 && !PQgetisnull(first, 0, 0)
                       ? PQgetvalue(first, 0, 0) : NULL, &qe);
    PQclear(first);
    if (rc == ERR_OK)
        db_ready(db);
    else
        db_drop(db, "refused by its check");
}

static void db_connect_step(struct db_async *db)
{
    PostgresPollingStatusType st = PQconnectPoll(db->conn);

    if (st == PGRES_POLLING_FAILED || db_track_socket(db) != 0) {
        char why[256];
        size_t n = strcspn(PQerrorMessage(db->conn), "\n");
        snprintf(why, sizeof why, "connect: %.*s", (int)n, PQerrorMessage(db->conn));
        db_log(LOG_WARN, "postgres_connect_failed", why);
        db_drop(db, why);
        return;
    }
    if (st == PGRES_POLLING_OK) {
        PQsetnonblocking(db->conn, 1);
        if (db->check != NULL) {
            db_check_start(db);
            return;
        }
        db_ready(db);
        return;
    }
    db_watch(db, st == PGRES_POLLING_READING, st == PGRES_POLLING_WRITING);
}

static void db_connect_start(struct db_async *db)
{
    db->conn = PQconnectStart(db->url);
    db->fd = -1;
    if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD) {
        db_log(LOG_WARN, "postgres_connect_failed",
               db->conn ? PQerrorMessage(db->conn) : "out of memory");
        db_drop(db, "cannot start connecting");
        return;
    }
    db->state = DB_CONNECTING;
    if (db_track_socket(db) != 0) {
        db_drop(db, "no socket");
        return;
    }
    db_watch(db, 0, 1);
}

/* Reads whatever results are ready; completes the head query when done. */
static void db_read(struct db_async *db)
{
    if (!PQconsumeInput(db->conn)) {
        db_log(LOG_WARN, "postgres_disconnected", PQerrorMessage(db->conn));
        db_drop(db, "connection lost");
        return;
    }
    while (db->busy && !PQisBusy(db->conn)) {
        PGresult *r = PQgetResult(db->conn);
        if (r != NULL) {
            if (db->first == NULL)
                db->first = r;
            else
                PQclear(r);
            continue;
        }
        /* NULL: the query is complete. */
        {
            PGresult *f = db->first;
            ExecStatusType st = f ? PQresultStatus(f) : PGRES_FATAL_ERROR;
            struct err e;
            const char *value = NULL;

            err_clear(&e);
            if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
                if (st == PGRES_TUPLES_OK && PQntuples(f) > 0 && PQnfields(f) > 0 &&
                    !PQgetisnull(f, 0, 0))
                    value = PQgetvalue(f, 0, 0);
            } else {
                const char *m = f ? PQresultErrorMessage(f) : PQerrorMessage(db->conn);
                size_t n = strcspn(m, "\n");
                err_set(&e, ERR_PROTOCOL, "postgres: %.*s", (int)n, m);
            }
            db->first = NULL;
            db_complete_head(db, value, &e);
            PQclear(f);
        }
    }
    if (db->state == DB_READY)
        db_pump(db, 0);
}

static void db_flush(struct db_async *db, int in_call)
{
    int rc = PQflush(db->conn);

    if (rc < 0) {
        db_break(db, "write failed", in_call);
        return;
    }
    db_watch(db, 1, rc == 1);
}

static void on_io(void *arg, int readable, int writable)
{
    struct db_async *db = arg;

    if (db->state == DB_CONNECTING) {
        db_connect_step(db);
        return;
    }
    if (db->state == DB_CHECKING) {
        db_check_read(db, writable);
        return;
    }
    if (db->state != DB_READY)
        return;
    if (writable && db->busy) {
        db_flush(db, 0);
        if (db->state != DB_READY)
            return;
    }
    if (readable)
        db_read(db);
}

/* Sends the head query if the connection is idle; in_call: see db_break. */
static void db_pump(struct db_async *db, int in_call)
{
    struct db_query *q = db->head;

    if (db->busy || q == NULL || db->state != DB_READY)
        return;
    if (!PQsendQueryParams(db->conn, q->sql, q->nparams, NULL,
                           (const char *const *)q->params, NULL, NULL, 0)) {
        db_log(LOG_WARN, "postgres_send_failed", PQerrorMessage(db->conn));
        db_break(db, "send failed", in_call);
        return;
    }
    db->busy = 1;
    db_flush(db, in_call);
}

struct db_async *db_async_new(struct loop *loop, const char *url, struct err *e)
{
    struct db_async *db = calloc(1, sizeof *db);

    if (db == NULL || (db->url = strdup(url)) == NULL) {
        free(db);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    db->loop = loop;
    db->fd = -1;
    db->backoff_ms = DB_BACKOFF_MIN_MS;
    db->retry = loop_timer_new(loop, on_retry, db);
    db->kick = loop_timer_new(loop, on_kick, db);
    if (db->retry == NULL || db->kick == NULL) {
        loop_timer_free(db->retry);
        loop_timer_free(db->kick);
        free(db->url);
        free(db);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    db_connect_start(db);
    return db;
}

void db_async_free(struct db_async *db)
{
    if (db == NULL)
        return;
    loop_timer_free(db->retry);
    db->retry = NULL;
    loop_timer_free(db->kick);
    db->kick = NULL;
    loop_io_free(db->io);
    db->io = NULL;
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db_fail_all(db, "shutting down");
    free(db->url);
    free(db);
}

void db_async_set_check(struct db_async *db, const char *sql, db_async_check_cb *cb, void *arg)
{
    db->check_sql = sql;
    db->check = cb;
    db->check_arg = arg;
}

int db_async_connected(const struct db_async *db)
{
    return db->state == DB_READY;
}

int db_async_query(struct db_async *db, const char *sql, int nparams,
                   const char *const *params, db_async_cb *cb, void *arg, struct err *e)
{
    struct db_query *q;

    if (db->state != DB_READY)
        return err_set(e, ERR_DATABASE_UNAVAILABLE, "postgres: not connected");
    if (nparams > DB_PARAMS_MAX)
        return err_set(e, ERR_INTERNAL, "too many query parameters (%d)", nparams);
    q = calloc(1, sizeof *q);
    if (q == NULL || (q->sql = strdup(sql)) == NULL) {
        free(q);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    q->cb = cb;
    q->arg = arg;
    for (int i = 0; i < nparams; i++) {
        if (params[i] != NULL && (q->params[i] = strdup(params[i])) == NULL) {
            q->nparams = i;
            query_free(q);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    q->nparams = nparams;
    if (db->tail != NULL)
        db->tail->next = q;
    else
        db->head = q;
    db->tail = q;
    db_pump(db, 1);
    return ERR_OK;
}
