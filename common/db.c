/* db.c - blocking libpq client. Queries are sent, then waited for in
 * slices of DB_ABORT_POLL_MS so that a db_abort can stop the wait: libpq's
 * PQexec would block until the server answers, which a lock or a hung
 * server can put off forever. */
#include "common/db.h"

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define DB_CONNECT_TIMEOUT_S "3"

/* Bytes of libpq's message when a cancel request fails (its advice: 256). */
#define DB_CANCEL_ERR_MAX 256

struct db {
    PGconn *conn;
    struct db_abort *abort;         /* borrowed; NULL: never gives up */
    int dropped;                    /* a query was given up: its answer is still due */
    char sqlstate[6];               /* of the last call's error reply; "" when none */
    unsigned long connects;         /* times connected: 1, then one more per reconnection */
};

void db_abort_request(struct db_abort *a)
{
    __atomic_store_n(&a->requested, 1, __ATOMIC_RELEASE);
}

int db_abort_cancelled(const struct db_abort *a)
{
    return __atomic_load_n(&a->cancelled, __ATOMIC_ACQUIRE);
}

static int db_aborting(const struct db *db)
{
    return db->abort != NULL && __atomic_load_n(&db->abort->requested, __ATOMIC_ACQUIRE);
}

/* libpq messages end with a newline; keep the first line only. */
static int db_err(struct err *e, enum err_code code, const char *what, const char *msg)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    return err_set(e, code, "postgres %s: %.*s", what, (int)n, msg ? msg : "");
}

/* Server notices ("relation exists, skipping") become debug log lines
 * instead of raw text on stderr. */
static void db_notice(void *arg, const char *msg)
{
    (void)arg;
    struct log_line l;
    size_t n = strcspn(msg, "\n");

    log_begin(&l, LOG_DEBUG, "postgres_notice");
    log_strn(&l, "detail", msg, n);
    log_end(&l);
}

struct db *db_connect(const char *url, struct db_abort *abort, struct err *e)
{
    struct db *db = calloc(1, sizeof *db);

    if (db == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    {
        /* A default connect timeout, placed first so that one given in the
         * URL wins; without it libpq waits forever for an unreachable host. */
        static const char *const keys[] = {"connect_timeout", "dbname", NULL};
        const char *vals[] = {DB_CONNECT_TIMEOUT_S, url, NULL};
        db->conn = PQconnectdbParams(keys, vals, 1);
    }
    if (db->conn != NULL)
        PQsetNoticeProcessor(db->conn, db_notice, NULL);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        db_err(e, ERR_DATABASE_UNAVAILABLE, "connect",
               db->conn ? PQerrorMessage(db->conn) : "out of memory");
        db_free(db);
        return NULL;
    }
    db->abort = abort;
    db->connects = 1;
    return db;
}

void db_free(struct db *db)
{
    if (db == NULL)
        return;
    if (db->conn != NULL)
        PQfinish(db->conn);
    free(db);
}

/* Waits until a result of the query sent can be read without blocking.
 * Returns 0, or -1 when the abort was requested meanwhile. */
static int db_wait(struct db *db)
{
    int slice = db->abort != NULL ? DB_ABORT_POLL_MS : -1;

    while (PQisBusy(db->conn)) {
        struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};
        int n;

        if (db_aborting(db))
            return -1;
        if (pfd.fd < 0)
            return 0;               /* lost: PQgetResult says so */
        n = poll(&pfd, 1, slice);
        if (n < 0 && errno != EINTR)
            return 0;               /* PQgetResult waits its own way */
        if (n > 0 && !PQconsumeInput(db->conn))
            return 0;
    }
    return 0;
}

/* The abort came while a query ran: asks the server to cancel it (from
 * this thread, which owns the connection) and drops the connection rather
 * than wait for its answer (db_ensure reconnects). Takes r. */
static int db_give_up(struct db *db, PGresult *r, struct err *e)
{
    PGcancel *c = PQgetCancel(db->conn);
    char why[DB_CANCEL_ERR_MAX] = "out of memory";

    PQclear(r);
    db->dropped = 1;
    __atomic_add_fetch(&db->abort->cancelled, 1, __ATOMIC_RELEASE);
    if (c == NULL || !PQcancel(c, why, sizeof why))
        log_event(LOG_WARN, "postgres_cancel_failed", "detail", why);
    PQfreeCancel(c);
    return err_set(e, ERR_DATABASE_UNAVAILABLE, "postgres query given up: this process "
                   "stops its queries");
}

/* Maps a failed result to an error code. Borrows r (NULL: nothing came). */
static int db_check(struct db *db, PGresult *r, struct err *e)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    const char *state;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return ERR_OK;
    if (PQstatus(db->conn) != CONNECTION_OK)
        return db_err(e, ERR_DATABASE_UNAVAILABLE, "connection", PQerrorMessage(db->conn));
    state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strlen(state) < sizeof db->sqlstate)
        memcpy(db->sqlstate, state, strlen(state) + 1);
    return db_err(e, ERR_PROTOCOL, "error",
                  r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
}

/* Whether PQexec would stop at r: nothing follows it before the caller acts
 * (COPY), or ever (a lost connection). */
static int db_result_last(const struct db *db, const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);

    return st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH ||
           PQstatus(db->conn) == CONNECTION_BAD;
}

/* Collects the results of what PQsendQuery* just sent (sent: its return)
 * as PQexec would: the last one, in *out (owns, PQclear) with ERR_OK; or an
 * error, *out NULL. */
static int db_collect(struct db *db, int sent, PGresult **out, struct err *e)
{
    PGresult *r = NULL, *next;
    int rc;

    *out = NULL;
    db->sqlstate[0] = '\0';
    while (sent) {
        if (db_wait(db) != 0)
            return db_give_up(db, r, e);
        if ((next = PQgetResult(db->conn)) == NULL)
            break;
        PQclear(r);
        r = next;
        if (db_result_last(db, r))
            break;
    }
    rc = db_check(db, r, e);
    if (rc != ERR_OK)
        PQclear(r);
    else
        *out = r;
    return rc;
}

/* An idle connection with something to read was closed by the server
 * (restart, idle timeout): let libpq notice before we use it. */
static void db_check_idle(struct db *db)
{
    struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};

    if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0) {
        PQconsumeInput(db->conn);
        if (PQstatus(db->conn) == CONNECTION_OK) {
            /* Notices only (e.g. the shutdown message): probe for real. */
            PGresult *r = NULL;

            db_collect(db, PQsendQuery(db->conn, ""), &r, NULL);
            PQclear(r);
        }
    }
}

static int db_ensure(struct db *db, struct err *e)
{
    db->sqlstate[0] = '\0';
    if (db_aborting(db))
        return err_set(e, ERR_DATABASE_UNAVAILABLE, "postgres query not sent: this process "
                       "stops its queries");
    if (!db->dropped) {
        db_check_idle(db);
        if (PQstatus(db->conn) == CONNECTION_OK)
            return ERR_OK;
    }
    db->dropped = 0;
    PQreset(db->conn);
    if (PQstatus(db->conn) == CONNECTION_OK) {
        db->connects++;
        return ERR_OK;
    }
    return db_err(e, ERR_DATABASE_UNAVAILABLE, "reconnect", PQerrorMessage(db->conn));
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
    PGresult *r;
    int rc;

    if (db_ensure(db, e) != ERR_OK)
        return ERR_DATABASE_UNAVAILABLE;
    rc = db_collect(db, PQsendQuery(db->conn, sql), &r, e);
    PQclear(r);
    return rc;
}

int db_query_value(struct db *db, const char *sql, int nparams, const char *const *params,
                   char **out, struct err *e)
{
    PGresult *r;
    int rc;

    *out = NULL;
    if (db_ensure(db, e) != ERR_OK)
        return ERR_DATABASE_UNAVAILABLE;
    rc = db_collect(db, PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0),
                    &r, e);
    if (rc == ERR_OK && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0)) {
        *out = strdup(PQgetvalue(r, 0, 0));
        if (*out == NULL)
            rc = err_set(e, ERR_INTERNAL, "out of memory");
    }
    PQclear(r);
    return rc;
}

int db_query_json(struct db *db, const char *sql, int nparams, const char *const *params,
                  cJSON **out, struct err *e)
{
    char *text = NULL;
    int rc = db_query_value(db, sql, nparams, params, &text, e);

    *out = NULL;
    if (rc != ERR_OK || text == NULL)
        return rc;
    *out = cJSON_Parse(text);
    free(text);
    return *out != NULL ? ERR_OK : err_set(e, ERR_PROTOCOL, "postgres returned malformed JSON");
}

unsigned long db_connects(const struct db *db)
{
    return db->connects;
}

const char *db_error_state(const struct db *db)
{
    return db->sqlstate;
}

int db_ping(struct db *db, struct err *e)
{
    char *v = NULL;
    int rc = db_query_value(db, "SELECT 1", 0, NULL, &v, e);

    free(v);
    return rc;
}
