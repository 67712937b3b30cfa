/* db.c - blocking libpq client. */
#include "common/db.h"

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define DB_CONNECT_TIMEOUT_S "3"

struct db {
    PGconn *conn;
};

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

struct db *db_connect(const char *url, struct err *e)
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

/* An idle connection with something to read was closed by the server
 * (restart, idle timeout): let libpq notice before we use it. */
static void db_check_idle(struct db *db)
{
    struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};

    if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0) {
        PQconsumeInput(db->conn);
        if (PQstatus(db->conn) == CONNECTION_OK) {
            /* Notices only (e.g. the shutdown message): probe for real. */
            PGresult *r = PQexec(db->conn, "");
            PQclear(r);
        }
    }
}

static int db_ensure(struct db *db, struct err *e)
{
    db_check_idle(db);
    if (PQstatus(db->conn) == CONNECTION_OK)
        return ERR_OK;
    PQreset(db->conn);
    if (PQstatus(db->conn) == CONNECTION_OK)
        return ERR_OK;
    return db_err(e, ERR_DATABASE_UNAVAILABLE, "reconnect", PQerrorMessage(db->conn));
}

/* Takes r. Maps a failed result to an error code. */
static int db_check(struct db *db, PGresult *r, struct err *e)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return ERR_OK;
    if (PQstatus(db->conn) != CONNECTION_OK)
        return db_err(e, ERR_DATABASE_UNAVAILABLE, "connection", PQerrorMessage(db->conn));
    return db_err(e, ERR_PROTOCOL, "error",
                  r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
}

int db_exec(struct db *db, const char *sql, struct err *e)
{
    PGresult *r;
    int rc;

    if (db_ensure(db, e) != ERR_OK)
        return ERR_DATABASE_UNAVAILABLE;
    r = PQexec(db->conn, sql);
    rc = db_check(db, r, e);
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
    r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    rc = db_check(db, r, e);
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

int db_ping(struct db *db, struct err *e)
{
    char *v = NULL;
    int rc = db_query_value(db, "SELECT 1", 0, NULL, &v, e);

    free(v);
    return rc;
}
