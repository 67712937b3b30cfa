/* migrate.h - the one migration runner (make run, tests and deployments).
 *
 * Applies schema/migrations/NNN_name.sql files in version order, each in its
 * own transaction, recording version, name and SHA-256 in schema_migrations.
 * A session-level advisory lock makes concurrent runners take turns. An
 * applied file whose checksum changed is an error: migrations are append-only.
 * So is, unless asked for, a pending file numbered below the last one
 * applied (a branch merged late): it would run in an order never tested.
 * Each migration's lock waits are bounded (lock_timeout), so that it fails
 * instead of queueing live traffic behind it.
 */
#ifndef CI_MIGRATE_H
#define CI_MIGRATE_H

struct db;
struct err;

/* Longest accepted migration file, bytes. */
#define MIGRATE_FILE_MAX (4 * 1024 * 1024)

/* The schema version this build's code needs: the number of the last file
 * of schema/migrations (test_migrate checks that they agree; add one, raise
 * this). A database at this version or a later one (a rolling deploy runs
 * the next release's migrations while this one still serves) is accepted. */
#define MIGRATE_SCHEMA_NEEDED 12

/* A database's schema version: the highest migration applied. Fails when
 * no migration ever ran (no schema_migrations). */
#define MIGRATE_SCHEMA_SQL "SELECT max(version) FROM schema_migrations"

/* Checks, without a database, that dir holds migrations that could be
 * applied: it opens, holds at least one NNN_name.sql, no two share a
 * version. Returns ERR_OK with the highest version in *latest, or ERR_CONFIG
 * with a message starting "CODEINSIGHT_SCHEMA_DIR" (the variable that names
 * dir). */
int migrate_check_dir(const char *dir, long *latest, struct err *e);

/* Judges a database by value, what MIGRATE_SCHEMA_SQL returned (borrowed;
 * NULL when nothing, or when it failed with qe). Returns ERR_OK when its
 * version is MIGRATE_SCHEMA_NEEDED or later; ERR_DATABASE_UNAVAILABLE with
 * qe's message when the query met an outage; else ERR_NOT_READY with the
 * one-line reason ("schema version 9 is older than the 11 this build needs:
 * run codeinsight-migrate"), logged as postgres_schema_outdated (an error). */
int migrate_schema_verdict(const char *value, const struct err *qe, struct err *e);

/* migrate_schema_verdict on db's schema version, read now. */
int migrate_schema_check(struct db *db, struct err *e);

/* migrate_schema_verdict as a db_async_check_cb: arg unused; returns
 * ERR_OK for a connection to use, an error to drop it and retry later. */
int migrate_schema_accept(void *arg, const char *value, const struct err *qe);

struct migrate_opts {
    long lock_timeout_ms;           /* each lock wait of a migration, at most; 0: no limit */
    int out_of_order;               /* 1: apply a pending file below the last applied */
};

/* Applies every pending migration in dir (borrowed) with opts (borrowed).
 * Returns ERR_OK and the count applied in *applied, or an error naming the
 * file: ERR_CONFIG for an edited applied file or one out of order (nothing
 * of the run applied after or from it), ERR_TIMEOUT when a migration waited
 * longer than opts->lock_timeout_ms for a lock (rolled back, not recorded:
 * run again). Migrations before the failing one stay applied. */
int migrate_run(struct db *db, const char *dir, const struct migrate_opts *opts, int *applied,
                struct err *e);

#endif
