/* db.h - blocking PostgreSQL connections (gateway reads, migrations).
 *
 * One connection per thread, never shared. After ERR_DATABASE_UNAVAILABLE
 * the next call tries to reconnect once.
 *
 * Connections made with a struct db_abort can be told, from any thread, to
 * give up: a query blocked on a lock or on a server that stopped answering
 * then returns instead of holding its thread (the gateway's shutdown):
 *
 *     struct db_abort stop = {0};
 *     db = db_connect(url, &stop, &e);     on its own thread, queries ...
 *     db_abort_request(&stop);             from another: they give up
 */
#ifndef CI_DB_H
#define CI_DB_H

#include <stddef.h>

struct cJSON;
struct db;
struct err;

/* How often, ms, a query waiting on the server looks at its db_abort. */
#define DB_ABORT_POLL_MS 100

/* Shared by the connections that give up together. Zero it before the
 * first db_connect; it must outlive them. Members are atomic. */
struct db_abort {
    int requested;                  /* db_abort_request was called */
    int cancelled;                  /* queries given up while in flight */
};

/* From any thread, once or more: every query of the connections made with
 * a gives up within DB_ABORT_POLL_MS (its server is sent a cancel request,
 * its connection dropped) and returns ERR_DATABASE_UNAVAILABLE, as does
 * every later call at once. Sending the cancel request may itself block
 * on a server that stopped answering: the caller bounds its own wait. */
void db_abort_request(struct db_abort *a);

/* Queries given up while in flight since a was zeroed. Thread-safe. */
int db_abort_cancelled(const struct db_abort *a);

/* Connects to a libpq URI (borrowed). abort (borrowed; NULL: never give
 * up) is shared with other connections, see db_abort_request. Returns the
 * connection (owns; db_free) or NULL with e set to ERR_DATABASE_UNAVAILABLE. */
struct db *db_connect(const char *url, struct db_abort *abort, struct err *e);

/* Closes and frees; accepts NULL. */
void db_free(struct db *db);

/* Runs one or more statements without parameters (a migration file).
 * Returns ERR_OK, ERR_DATABASE_UNAVAILABLE, or ERR_PROTOCOL with the server's message. */
int db_exec(struct db *db, const char *sql, struct err *e);

/* Runs a parameterised query (text parameters; NULL entries are SQL NULL) and
 * returns the first column of the first row in *out (owns, free(); NULL when
 * there is no row or the value is NULL). */
int db_query_value(struct db *db, const char *sql, int nparams, const char *const *params,
                   char **out, struct err *e);

/* Like db_query_value for a query whose value is a json/jsonb: *out is the
 * parsed value (owns; NULL when there is no row or the value is NULL).
 * Malformed JSON from the server is ERR_PROTOCOL. */
int db_query_json(struct db *db, const char *sql, int nparams, const char *const *params,
                  struct cJSON **out, struct err *e);

/* How many times db connected: 1 after db_connect, one more at each
 * reconnection (to a server that may have been restored, or replaced). */
unsigned long db_connects(const struct db *db);

/* The SQLSTATE of the error the server replied to the last query with
 * (borrowed, until the next call on db): "55P03" for a lock_timeout, "" when
 * that query succeeded or failed without a reply (a lost connection). */
const char *db_error_state(const struct db *db);

/* Round trip to the server ("SELECT 1"). */
int db_ping(struct db *db, struct err *e);

#endif
