/* migrate_main.c - codeinsight-migrate: applies pending schema migrations.
 * Run by `make run`, by the tests and as the deployments' release step. */
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "common/migrate.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct config cfg;
    struct err e;
    struct db *db;
    int applied = 0, rc;
    long latest;                    /* unused: the code's own need is built in */

    if (argc > 1) {
        int help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fprintf(help ? stdout : stderr,
                "usage: codeinsight-migrate\n"
                "Applies the pending migrations of CODEINSIGHT_SCHEMA_DIR to DATABASE_URL,\n"
                "each in one transaction; takes no arguments.\n");
        return help ? 0 : 2;
    }

    log_init("migrate", LOG_INFO);
    if (config_load(&cfg, CFG_MIGRATE, &e) != ERR_OK) {
        log_event(LOG_ERROR, "migrate_config_invalid", "detail", e.msg);
        return 2;
    }
    log_init("migrate", (enum log_level)cfg.log_level);
    /* The files first: a wrong directory is the operator's to fix (2),
     * not a failure to retry (1). */
    if (migrate_check_dir(cfg.schema_dir, &latest, &e) != ERR_OK) {
        log_event(LOG_ERROR, "migrate_config_invalid", "detail", e.msg);
        return 2;
    }
    if (crypto_init() != 0)
        return 1;
    db = db_connect(cfg.database_url, NULL, &e);
    if (db == NULL) {
        log_event(LOG_ERROR, "migrate_failed", "detail", e.msg);
        return 1;
    }
    {
        struct migrate_opts opts = {.lock_timeout_ms = cfg.migrate_lock_timeout_ms,
                                    .out_of_order = cfg.migrate_out_of_order != 0};
        rc = migrate_run(db, cfg.schema_dir, &opts, &applied, &e);
    }
    db_free(db);
    if (rc != ERR_OK) {
        struct log_line l;
        log_begin(&l, LOG_ERROR, "migrate_failed");
        log_errfields(&l, &e);
        log_end(&l);
        return 1;
    }
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "migrate_done");
        log_int(&l, "applied", applied);
        log_end(&l);
    }
    return 0;
}
