/* migrate.h - the one migration runner (make run, tests and deployments).
 *
 * Applies schema/migrations/NNN_name.sql files in version order, each in its
 * own transaction, recording version, name and SHA-256 in schema_migrations.
 * A session-level advisory lock makes concurrent runners take turns. An
 * applied file whose checksum changed is an error: migrations are append-only.
 */
#ifndef CI_MIGRATE_H
#define CI_MIGRATE_H

struct db;
struct err;

/* Longest accepted migration file, bytes. */
#define MIGRATE_FILE_MAX (4 * 1024 * 1024)

/* Checks, without a database, that dir holds migrations that could be
 * applied: it opens, holds at least one NNN_name.sql, no two share a
 * version. Returns ERR_OK, or ERR_CONFIG with a message starting
 * "CODEINSIGHT_SCHEMA_DIR" (the variable that names dir). */
int migrate_check_dir(const char *dir, struct err *e);

/* Applies every pending migration in dir (borrowed). Returns ERR_OK and the
 * count applied in *applied, or an error naming the file. */
int migrate_run(struct db *db, const char *dir, int *applied, struct err *e);

#endif
