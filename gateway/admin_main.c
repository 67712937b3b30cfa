/* admin_main.c - codeinsight-admin: accounts from the shell (PostgreSQL).
 *
 *   codeinsight-admin user-create EMAIL [--plan lite|pro|business] [--password-stdin]
 *   codeinsight-admin user-plan EMAIL PLAN
 *   codeinsight-admin user-operator EMAIL on|off
 *   codeinsight-admin key-issue EMAIL [NAME]     prints the key, once
 *   codeinsight-admin key-revoke KEY_ID
 *   codeinsight-admin key-list EMAIL
 *
 * user-operator grants or revokes the operator role (may read GET /stats,
 * the figures over every user). Like a plan, it is part of the identity the
 * gateways cache: they see the change within CODEINSIGHT_AUTH_CACHE_TTL plus
 * CODEINSIGHT_IDENTITY_CACHE_MS (docs/operations.md, "Operators").
 *
 * Needs DATABASE_URL and CODEINSIGHT_KEY_PEPPER; key-revoke needs REDIS_URL
 * too. key-revoke takes effect at once, as DELETE /keys/<id> does: it
 * revokes the key in PostgreSQL, then marks the gateways' Redis copies of
 * its identity revoked (key_revoke.h). When Redis cannot be told, it exits
 * with status 3: the key is revoked in PostgreSQL but still works from those
 * copies while PostgreSQL is unreachable (and for up to
 * CODEINSIGHT_AUTH_CACHE_TTL anyway) until key-revoke is run again with
 * Redis reachable. Exit status: 0 done, 1 failed, 2 usage or configuration,
 * 3 key-revoke done in PostgreSQL only. */
#include "common/account.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/key_revoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The usage on out; returns the exit status that goes with it. */
static int usage_to(FILE *out, int status)
{
    fprintf(out,
            "usage: codeinsight-admin user-create EMAIL [--plan PLAN] [--password-stdin]\n"
            "       codeinsight-admin user-plan EMAIL PLAN\n"
            "       codeinsight-admin user-operator EMAIL on|off\n"
            "       codeinsight-admin key-issue EMAIL [NAME]\n"
            "       codeinsight-admin key-revoke KEY_ID\n"
            "       codeinsight-admin key-list EMAIL\n"
            "PLAN is lite, pro or business. user-operator grants (on) or revokes (off) the\n"
            "operator role (GET /stats); gateways see a plan or role change within\n"
            "CODEINSIGHT_AUTH_CACHE_TTL + CODEINSIGHT_IDENTITY_CACHE_MS (cached identities).\n"
            "Needs DATABASE_URL and CODEINSIGHT_KEY_PEPPER,\n"
            "and REDIS_URL for key-revoke (after `make run`: . .run/secrets/admin.env).\n"
            "Exit status 3: key-revoke revoked the key in PostgreSQL but could not tell\n"
            "Redis; run it again once Redis is reachable.\n");
    return status;
}

static int usage(void)
{
    return usage_to(stderr, 2);
}

/* Reads one line (the password) from stdin into buf; strips the newline. */
static int read_password(char *buf, size_t cap)
{
    size_t n;

    if (fgets(buf, (int)cap, stdin) == NULL)
        return -1;
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    return 0;
}

static int fail(const struct err *e)
{
    fprintf(stderr, "codeinsight-admin: %s (%s)\n", e->msg, err_code_str(e->code));
    return 1;
}

static int cmd_user_create(struct db *db, int argc, char **argv, struct err *e)
{
    const char *plan = "lite";
    char password[ACCOUNT_PASSWORD_MAX + 2], user_id[37];
    int with_password = 0, rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc)
            plan = argv[++i];
        else if (strcmp(argv[i], "--password-stdin") == 0)
            with_password = 1;
        else
            return usage();
    }
    if (with_password && read_password(password, sizeof password) != 0) {
        fprintf(stderr, "codeinsight-admin: no password on standard input\n");
        return 1;
    }
    rc = account_user_create(db, argv[0], plan, with_password ? password : NULL, user_id, e);
    crypto_wipe(password, sizeof password);
    if (rc != ERR_OK)
        return fail(e);
    printf("%s\n", user_id);
    return 0;
}

/* user-operator EMAIL on|off. Returns the exit status: 0, 1 (no such user,
 * PostgreSQL failed), 2 (neither on nor off). */
static int cmd_user_operator(struct db *db, const char *email, const char *onoff,
                             struct err *e)
{
    int on;

    if (strcmp(onoff, "on") == 0)
        on = 1;
    else if (strcmp(onoff, "off") == 0)
        on = 0;
    else
        return usage();
    if (account_user_set_operator(db, email, on, e) != ERR_OK)
        return fail(e);
    fprintf(stderr, "codeinsight-admin: %s %s an operator; gateways see it once their cached "
            "identity expires\n(CODEINSIGHT_AUTH_CACHE_TTL + CODEINSIGHT_IDENTITY_CACHE_MS)\n",
            email, on ? "is now" : "is no longer");
    return 0;
}

/* Redis connect and command timeout of key-revoke, ms. */
#define ADMIN_REDIS_TIMEOUT_MS 3000

/* Revokes key_id in PostgreSQL, then in the gateways' Redis cache. Returns
 * the exit status: 0, 1 (PostgreSQL failed), 3 (Redis failed, told on
 * stderr). */
static int cmd_key_revoke(struct db *db, const struct kv_url *url, const char *key_id,
                          struct err *e)
{
    char hash[65];
    struct kv *kv;

    if (account_key_revoke(db, key_id, NULL, hash, e) != ERR_OK)
        return fail(e);
    job_scripts_init();
    if ((kv = kv_connect(url, ADMIN_REDIS_TIMEOUT_MS, e)) != NULL &&
        key_revoke_cached(kv, hash, e) == ERR_OK) {
        kv_free(kv);
        return 0;
    }
    kv_free(kv);
    fail(e);
    fprintf(stderr,
            "codeinsight-admin: the key is revoked in PostgreSQL, but Redis was not told: "
            "gateways may\naccept it for up to CODEINSIGHT_AUTH_CACHE_TTL, and from their "
            "long-lived copies whenever\nPostgreSQL is unreachable. Run key-revoke %s again "
            "once Redis is reachable.\n", key_id);
    return 3;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct kv_url kv_url;
    struct err e;
    struct db *db;
    const char *cmd;
    int rc = 0;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage_to(stdout, 0);
    if (argc < 3)
        return usage();
    cmd = argv[1];
    log_init("admin", LOG_WARN);
    if (config_load(&cfg, CFG_ADMIN, &e) != ERR_OK)
        return 2;
    /* Checked before anything is changed: key-revoke must reach Redis too. */
    if (kv_url_parse(cfg.redis_url, &kv_url, &e) != ERR_OK) {
        log_event(LOG_ERROR, "admin_config_invalid", "detail", e.msg);
        return 2;
    }
    if (crypto_init() != 0)
        return 1;
    if ((db = db_connect(cfg.database_url, NULL, &e)) == NULL)
        return fail(&e);

    if (strcmp(cmd, "user-create") == 0) {
        rc = cmd_user_create(db, argc - 2, argv + 2, &e);
    } else if (strcmp(cmd, "user-plan") == 0 && argc == 4) {
        rc = account_user_set_plan(db, argv[2], argv[3], &e) == ERR_OK ? 0 : fail(&e);
    } else if (strcmp(cmd, "user-operator") == 0 && argc == 4) {
        rc = cmd_user_operator(db, argv[2], argv[3], &e);
    } else if (strcmp(cmd, "key-issue") == 0 && (argc == 3 || argc == 4)) {
        struct account_key k;
        char user_id[37];
        if (account_user_by_email(db, argv[2], user_id, &e) != ERR_OK ||
            account_key_issue(db, user_id, argc == 4 ? argv[3] : "cli", cfg.key_pepper, &k, &e) !=
                ERR_OK) {
            rc = fail(&e);
        } else {
            printf("%s\n", k.key);
            fprintf(stderr, "key_id %s (the key is shown only now)\n", k.key_id);
            crypto_wipe(k.key, sizeof k.key);
        }
    } else if (strcmp(cmd, "key-revoke") == 0 && argc == 3) {
        rc = cmd_key_revoke(db, &kv_url, argv[2], &e);
    } else if (strcmp(cmd, "key-list") == 0 && argc == 3) {
        char user_id[37];
        cJSON *keys = NULL;
        if (account_user_by_email(db, argv[2], user_id, &e) != ERR_OK ||
            account_key_list(db, user_id, &keys, &e) != ERR_OK) {
            rc = fail(&e);
        } else {
            char *text = cJSON_Print(keys);
            printf("%s\n", text ? text : "[]");
            free(text);
            cJSON_Delete(keys);
        }
    } else {
        rc = usage();
    }
    db_free(db);
    return rc;
}
