/* migrate.c - versioned SQL migrations. */
#include "common/migrate.h"

#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIGRATE_MAX_FILES 1000
/* pg_advisory_lock key: "codeinsight migrations". */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_lock(7261636)"
#define MIGRATE_UNLOCK_SQL "SELECT pg_advisory_unlock(7261636)"

static const char migrate_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* SQLSTATE lock_not_available: lock_timeout expired. */
#define MIGRATE_LOCK_TIMEOUT_STATE "55P03"

struct migration {
    long version;
    char name[256];
};

/* One run: what it was asked, what the database held when it started. */
struct run {
    struct db *db;
    const char *dir;                /* borrowed */
    const struct migrate_opts *opts;
    long last_version;              /* highest applied at start; 0: none */
    char last_name[256];            /* its file's name */
    int applied;
};

static int by_version(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* "NNN_name.sql" -> version; -1 when the name does not follow the pattern. */
static long parse_version(const char *name)
{
    char *end;
    long v;
    size_t n = strlen(name);

    if (n < 5 || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    errno = 0;
    v = strtol(name, &end, 10);
    if (errno != 0 || end == name || *end != '_' || v < 1 || v > 999999)
        return -1;
    return v;
}

static int list_migrations(const char *dir, struct migration **out, int *count, struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct migration *list = NULL;
    int n = 0;

    if (d == NULL)
        return err_set(e, ERR_IO, "open %s: %s", dir, strerror(errno));
    list = calloc(MIGRATE_MAX_FILES, sizeof *list);
    if (list == NULL) {
        closedir(d);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    while ((de = readdir(d)) != NULL) {
        long v = parse_version(de->d_name);
        if (v < 0)
            continue;
        if (n == MIGRATE_MAX_FILES || strlen(de->d_name) >= sizeof list[0].name) {
            closedir(d);
            free(list);
            return err_set(e, ERR_CONFIG, "too many or too long migration names in %s", dir);
        }
        list[n].version = v;
        memcpy(list[n].name, de->d_name, strlen(de->d_name) + 1);
        n++;
    }
    closedir(d);
    qsort(list, (size_t)n, sizeof *list, by_version);
    for (int i = 1; i < n; i++) {
        if (list[i].version == list[i - 1].version) {
            int rc = err_set(e, ERR_CONFIG, "two migrations share version %ld: %s and %s",
                             list[i].version, list[i - 1].name, list[i].name);
            free(list);
            return rc;
        }
    }
    *out = list;
    *count = n;
    return ERR_OK;
}

/* Reads a whole file (owns *out, NUL-terminated). */
static int read_file(const char *path, char **out, struct err *e)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;

    if (f == NULL)
        return err_set(e, ERR_IO, "open %s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || st.st_size > MIGRATE_FILE_MAX) {
        fclose(f);
        return err_set(e, ERR_IO, "%s: unreadable or larger than %d bytes", path,
                       MIGRATE_FILE_MAX);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        fclose(f);
        return err_set(e, ERR_IO, "read %s failed", path);
    }
    buf[st.st_size] = '\0';
    fclose(f);
    *out = buf;
    return ERR_OK;
}

/* Refuses a pending migration numbered below the last one applied, unless
 * the options allow it (then says so in the log). */
static int check_order(const struct run *run, const struct migration *m, struct err *e)
{
    struct log_line l;

    if (m->version >= run->last_version)
        return ERR_OK;
    if (!run->opts->out_of_order)
        return err_set(e, ERR_CONFIG, "%s is numbered below %s, already applied: renumber it "
                       "after the last migration, or set CODEINSIGHT_MIGRATE_OUT_OF_ORDER=1 if "
                       "it was applied in this order elsewhere", m->name, run->last_name);
    log_begin(&l, LOG_WARN, "migration_out_of_order");
    log_str(&l, "name", m->name);
    log_str(&l, "after", run->last_name);
    log_end(&l);
    return ERR_OK;
}

/* Runs sql in a transaction whose lock waits are bounded, recording m in
 * it. Rolls back on any error, which names the file. */
static int apply_sql(struct run *run, const struct migration *m, const char *sql,
                     const char *sum, struct err *e)
{
    char version[16], timeout[24], why[ERR_MSG_MAX], state[6];
    char *ignored = NULL;
    int rc;

    snprintf(version, sizeof version, "%ld", m->version);
    snprintf(timeout, sizeof timeout, "%ld", run->opts->lock_timeout_ms);
    if ((rc = db_exec(run->db, "BEGIN", e)) != ERR_OK)
        return rc;
    /* Waiting for a lock held by live traffic would queue every later query
     * of that table behind this one: give up instead, and let the operator
     * run it again. Local to the transaction: the advisory lock, taken
     * outside, waits for another runner as long as it takes. */
    rc = db_query_value(run->db, "SELECT set_config('lock_timeout', $1, true)", 1,
                        (const char *[]){timeout}, &ignored, e);
    free(ignored);
    ignored = NULL;
    if (rc == ERR_OK)
        rc = db_exec(run->db, sql, e);
    if (rc == ERR_OK)
        rc = db_query_value(run->db, "INSERT INTO schema_migrations (version, name, checksum)"
                            " VALUES ($1, $2, $3)", 3,
                            (const char *[]){version, m->name, sum}, &ignored, e);
    free(ignored);
    if (rc == ERR_OK)
        return db_exec(run->db, "COMMIT", e);
    memcpy(why, e->msg, sizeof why);
    memcpy(state, db_error_state(run->db), sizeof state);
    db_exec(run->db, "ROLLBACK", NULL);
    if (strcmp(state, MIGRATE_LOCK_TIMEOUT_STATE) == 0)
        return err_set(e, ERR_TIMEOUT, "%s: a lock it needs was held by other sessions longer "
                       "than CODEINSIGHT_MIGRATE_LOCK_TIMEOUT_MS (%ld ms); rolled back, nothing "
                       "recorded: run codeinsight-migrate again when they are done (less "
                       "traffic, or a longer timeout)", m->name, run->opts->lock_timeout_ms);
    return err_set(e, rc, "%s: %s", m->name, why);
}

static int apply_one(struct run *run, const struct migration *m, struct err *e)
{
    char path[1024], version[16], sum[65];
    char *sql = NULL, *have = NULL;
    int rc;

    snprintf(version, sizeof version, "%ld", m->version);
    if (snprintf(path, sizeof path, "%s/%s", run->dir, m->name) >= (int)sizeof path)
        return err_set(e, ERR_CONFIG, "migration path too long");
    if ((rc = read_file(path, &sql, e)) != ERR_OK)
        return rc;
    crypto_sha256_hex(sql, strlen(sql), sum);

    rc = db_query_value(run->db, "SELECT checksum FROM schema_migrations WHERE version = $1", 1,
                        (const char *[]){version}, &have, e);
    if (rc != ERR_OK)
        goto out;
    if (have != NULL) {
        if (strcmp(have, sum) != 0)
            rc = err_set(e, ERR_CONFIG, "%s was changed after it was applied; add a new "
                         "migration instead", m->name);
        goto out;
    }
    if ((rc = check_order(run, m, e)) != ERR_OK ||
        (rc = apply_sql(run, m, sql, sum, e)) != ERR_OK)
        goto out;
    run->applied++;
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "migration_applied");
        log_int(&l, "version", m->version);
        log_str(&l, "name", m->name);
        log_end(&l);
    }
out:
    free(sql);
    free(have);
    return rc;
}

/* The highest version applied and its file's name, into run. */
static int read_last(struct run *run, struct err *e)
{
    char *last = NULL, *end;
    int rc = db_query_value(run->db, "SELECT version || ' ' || name FROM schema_migrations"
                            " ORDER BY version DESC LIMIT 1", 0, NULL, &last, e);

    run->last_version = 0;
    run->last_name[0] = '\0';
    if (rc != ERR_OK || last == NULL) {
        free(last);
        return rc;
    }
    errno = 0;
    run->last_version = strtol(last, &end, 10);
    if (errno != 0 || end == last || *end != ' ')
        rc = err_set(e, ERR_PROTOCOL, "schema_migrations holds an unreadable version");
    else
        snprintf(run->last_name, sizeof run->last_name, "%s", end + 1);
    free(last);
    return rc;
}

int migrate_check_dir(const char *dir, long *latest, struct err *e)
{
    struct migration *list = NULL;
    char why[ERR_MSG_MAX];
    int n = 0;

    if (list_migrations(dir, &list, &n, e) != ERR_OK) {
        snprintf(why, sizeof why, "%s", e->msg);
        return err_set(e, ERR_CONFIG, "CODEINSIGHT_SCHEMA_DIR: %s", why);
    }
    *latest = n > 0 ? list[n - 1].version : 0;
    free(list);
    if (n == 0)
        return err_set(e, ERR_CONFIG, "CODEINSIGHT_SCHEMA_DIR: no NNN_name.sql migration in %s",
                       dir);
    return ERR_OK;
}

int migrate_schema_verdict(const char *value, const struct err *qe, struct err *e)
{
    struct log_line l;
    long have = 0;
    char *end = NULL;

    if (qe != NULL && qe->code == ERR_DATABASE_UNAVAILABLE)
        return err_set(e, ERR_DATABASE_UNAVAILABLE, "%s", qe->msg);
    if (qe != NULL && qe->code != ERR_OK) {
        err_set(e, ERR_NOT_READY, "cannot read the schema version (%.160s): run "
                "codeinsight-migrate", qe->msg);
    } else {
        if (value != NULL) {
            errno = 0;
            have = strtol(value, &end, 10);
        }
        if (value != NULL && (errno != 0 || end == value || *end != '\0'))
            err_set(e, ERR_NOT_READY, "unreadable schema version \"%.32s\": run "
                    "codeinsight-migrate", value);
        else if (have >= MIGRATE_SCHEMA_NEEDED)
            return ERR_OK;
        else
            err_set(e, ERR_NOT_READY, "schema version %ld is older than the %d this "
                    "build needs: run codeinsight-migrate", have, MIGRATE_SCHEMA_NEEDED);
    }
    log_begin(&l, LOG_ERROR, "postgres_schema_outdated");
    log_str(&l, "detail", e->msg);
    log_int(&l, "needed", MIGRATE_SCHEMA_NEEDED);
    log_end(&l);
    return e->code;
}

int migrate_schema_check(struct db *db, struct err *e)
{
    struct err qe;
    char *value = NULL;
    int rc;

    err_clear(&qe);
    db_query_value(db, MIGRATE_SCHEMA_SQL, 0, NULL, &value, &qe);
    rc = migrate_schema_verdict(value, &qe, e);
    free(value);
    return rc;
}

int migrate_schema_accept(void *arg, const char *value, const struct err *qe)
{
    struct err e;

    (void)arg;
    return migrate_schema_verdict(value, qe, &e);
}

int migrate_run(struct db *db, const char *dir, const struct migrate_opts *opts, int *applied,
                struct err *e)
{
    struct run run = {.db = db, .dir = dir, .opts = opts};
    struct migration *list = NULL;
    int n = 0, rc;
    char *ignored = NULL;

    *applied = 0;
    if ((rc = list_migrations(dir, &list, &n, e)) != ERR_OK)
        return rc;
    if ((rc = db_query_value(db, MIGRATE_LOCK_SQL, 0, NULL, &ignored, e)) != ERR_OK) {
        free(list);
        return rc;
    }
    free(ignored);
    rc = db_exec(db, migrate_table_sql, e);
    if (rc == ERR_OK)
        rc = read_last(&run, e);
    for (int i = 0; rc == ERR_OK && i < n; i++)
        rc = apply_one(&run, &list[i], e);
    *applied = run.applied;
    ignored = NULL;
    db_query_value(db, MIGRATE_UNLOCK_SQL, 0, NULL, &ignored, NULL);
    free(ignored);
    free(list);
    return rc;
}
