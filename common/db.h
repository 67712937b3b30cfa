/* db.h - blocking PostgreSQL connections (gateway reads, migrations).
 *
 * One connection per thread, never shared. After ERR_DATABASE_UNAVAILABLE
 * the next call tries to reconnect once.
 */
#ifndef CI_DB_H
#define CI_DB_H

#include <stddef.h>

struct cJSON;
struct db;
struct err;

/* Connects to a libpq URI (borrowed). Returns the connection (owns; db_free)
 * or NULL with e set to ERR_DATABASE_UNAVAILABLE. */
struct db *db_connect(const char *url, struct err *e);

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

/* Round trip to the server ("SELECT 1"). */
int db_ping(struct db *db, struct err *e);

#endif
