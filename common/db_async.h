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

/* Starts connecting. url is copied. Returns the connection (owns;
 * db_async_free) or NULL with e set. */
struct db_async *db_async_new(struct loop *loop, const char *url, struct err *e);

/* Fails queries in flight with ERR_DATABASE_UNAVAILABLE, closes, frees. Accepts NULL. */
void db_async_free(struct db_async *db);

/* 1 when connected. */
int db_async_connected(const struct db_async *db);

/* Queues a parameterised query (text params copied). Returns ERR_OK and
 * calls cb later exactly once, or returns an error and never calls cb. */
int db_async_query(struct db_async *db, const char *sql, int nparams,
                   const char *const *params, db_async_cb *cb, void *arg, struct err *e);

#endif
