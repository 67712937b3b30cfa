/* db_async.h - a non-blocking PostgreSQL connection driven by the event loop.
 *
 * Queries run one after another in submission order. The connection
 * reconnects by itself with backoff; queries submitted while it is down fail
 * at once (the caller keeps its work pending and retries).
 */
#ifndef CI_DB_ASYNC_H
#define CI_DB_ASYNC_H

struct db_async;
struct err;
struct loop;

/* value: first column of the first row, borrowed for the callback, NULL when
 * there is none or on error (e->code != ERR_OK). */
typedef void db_async_cb(void *arg, const char *value, const struct err *e);

/* Judges a new connection by value, the first column of the first row of
 * its check query (borrowed for the call; NULL when there is none, or when
 * the query failed: qe->code is then set, ERR_DATABASE_UNAVAILABLE when the
 * connection was lost meanwhile, ERR_PROTOCOL for the server's error). Returns ERR_OK to use the
 * connection, anything else to drop it (saying why is the callback's) and
 * connect again after the backoff. */
typedef int db_async_check_cb(void *arg, const char *value, const struct err *qe);

/* Starts connecting. url is copied. Returns the connection (owns;
 * db_async_free) or NULL with e set. */
struct db_async *db_async_new(struct loop *loop, const char *url, struct err *e);

/* From now on, each new connection runs sql (borrowed, for db's lifetime)
 * first and is connected (db_async_connected) only once cb accepted it.
 * Call it before the loop runs, or a connection made meanwhile is not
 * judged. */
void db_async_set_check(struct db_async *db, const char *sql, db_async_check_cb *cb, void *arg);

/* Fails queries in flight with ERR_DATABASE_UNAVAILABLE, closes, frees. Accepts NULL. */
void db_async_free(struct db_async *db);

/* 1 when connected. */
int db_async_connected(const struct db_async *db);

/* Queues a parameterised query (text params copied). Returns ERR_OK and
 * calls cb later exactly once, or returns an error and never calls cb. */
int db_async_query(struct db_async *db, const char *sql, int nparams,
                   const char *const *params, db_async_cb *cb, void *arg, struct err *e);

#endif
