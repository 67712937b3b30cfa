/* test_migrate.c - common/migrate.c without a database: the schema version
 * the code says it needs is the last of schema/migrations (run from the
 * repository's root, as tests/run-unit.sh does), and the verdict on a
 * database's version accepts it and any later one, refuses an older one
 * with the one-line reason, and passes an outage through. */
#include "common/err.h"
#include "common/log.h"
#include "common/migrate.h"
#include "tests/unit/capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_needed_is_the_last_migration(void **state)
{
    struct err e;
    long latest = 0;

    (void)state;
    assert_int_equal(migrate_check_dir("schema/migrations", &latest, &e), ERR_OK);
    if (latest != MIGRATE_SCHEMA_NEEDED)
        fail_msg("schema/migrations ends at %ld, MIGRATE_SCHEMA_NEEDED is %d: raise it in "
                 "common/migrate.h", latest, MIGRATE_SCHEMA_NEEDED);
}

/* The verdict on value (qe: the query's error, NULL: none), and what it
 * logged (owns; free()). */
static int verdict(const char *value, const struct err *qe, struct err *e, char **logged)
{
    struct capture c;
    int rc;

    capture_begin(&c);
    rc = migrate_schema_verdict(value, qe, e);
    *logged = capture_end(&c);
    return rc;
}

static void test_same_or_later_is_accepted(void **state)
{
    char now[16], later[16];
    struct err e;
    char *logged;

    (void)state;
    snprintf(now, sizeof now, "%d", MIGRATE_SCHEMA_NEEDED);
    snprintf(later, sizeof later, "%d", MIGRATE_SCHEMA_NEEDED + 7);
    assert_int_equal(verdict(now, NULL, &e, &logged), ERR_OK);
    assert_string_equal(logged, "");
    free(logged);
    assert_int_equal(verdict(later, NULL, &e, &logged), ERR_OK);
    assert_string_equal(logged, "");
    free(logged);
}

static void test_older_is_refused_with_its_reason(void **state)
{
    char older[16], want[ERR_MSG_MAX];
    struct err e;
    char *logged;

    (void)state;
    snprintf(older, sizeof older, "%d", MIGRATE_SCHEMA_NEEDED - 2);
    snprintf(want, sizeof want, "schema version %d is older than the %d this build needs: "
             "run codeinsight-migrate", MIGRATE_SCHEMA_NEEDED - 2, MIGRATE_SCHEMA_NEEDED);
    assert_int_equal(verdict(older, NULL, &e, &logged), ERR_NOT_READY);
    assert_string_equal(e.msg, want);
    assert_non_null(strstr(logged, "\"level\":\"error\""));
    assert_non_null(strstr(logged, "\"event\":\"postgres_schema_outdated\""));
    assert_non_null(strstr(logged, want));
    free(logged);

    /* An empty schema_migrations: nothing applied. */
    assert_int_equal(verdict(NULL, NULL, &e, &logged), ERR_NOT_READY);
    assert_non_null(strstr(e.msg, "schema version 0 is older"));
    free(logged);

    assert_int_equal(verdict("11x", NULL, &e, &logged), ERR_NOT_READY);
    assert_string_equal(e.msg, "unreadable schema version \"11x\": run codeinsight-migrate");
    free(logged);
}

static void test_a_failed_read_is_refused_an_outage_passed_on(void **state)
{
    struct err qe, e;
    char *logged;

    (void)state;
    err_set(&qe, ERR_PROTOCOL, "postgres error: relation \"schema_migrations\" does not exist");
    assert_int_equal(verdict(NULL, &qe, &e, &logged), ERR_NOT_READY);
    assert_string_equal(e.msg, "cannot read the schema version (postgres error: relation "
                        "\"schema_migrations\" does not exist): run codeinsight-migrate");
    assert_non_null(strstr(logged, "postgres_schema_outdated"));
    free(logged);

    err_set(&qe, ERR_DATABASE_UNAVAILABLE, "postgres connection: server closed the connection");
    assert_int_equal(verdict(NULL, &qe, &e, &logged), ERR_DATABASE_UNAVAILABLE);
    assert_string_equal(e.msg, qe.msg);
    assert_string_equal(logged, "");
    free(logged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needed_is_the_last_migration),
        cmocka_unit_test(test_same_or_later_is_accepted),
        cmocka_unit_test(test_older_is_refused_with_its_reason),
        cmocka_unit_test(test_a_failed_read_is_refused_an_outage_passed_on),
    };

    log_init("test", LOG_INFO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
