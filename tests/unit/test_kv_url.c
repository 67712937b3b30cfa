/* test_kv_url.c - unit tests for kv_url_parse() and kv_error_kind() in
 * common/kv.c (no Redis needed: parsing only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/kv.h"

static void assert_parsed(const char *url, const char *host, int port, const char *password,
                          int db)
{
    struct kv_url u;
    struct err e;

    err_clear(&e);
    assert_int_equal(kv_url_parse(url, &u, &e), ERR_OK);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    assert_string_equal(u.password, password);
    assert_int_equal(u.db, db);
}

/* Asserts url is refused with ERR_CONFIG and a message in *e. */
static void assert_refused(const char *url, struct err *e)
{
    struct kv_url u;

    err_clear(e);
    assert_int_equal(kv_url_parse(url, &u, e), ERR_CONFIG);
    assert_int_equal(e->code, ERR_CONFIG);
    assert_true(e->msg[0] != '\0');
}

static void test_accepted(void **state)
{
    (void)state;
    assert_parsed("redis://127.0.0.1:6390/0", "127.0.0.1", 6390, "", 0);
    assert_parsed("redis://:pw@h:1/3", "h", 1, "pw", 3);
    assert_parsed("redis://user:pw@h", "h", 6379, "pw", 0);
    assert_parsed("redis://h", "h", 6379, "", 0);
    assert_parsed("redis://h:65535", "h", 65535, "", 0);
    assert_parsed("redis://h/15", "h", 6379, "", 15);
    assert_parsed("redis://h:7000/", "h", 7000, "", 0);
    assert_parsed("redis://user@h:2", "h", 2, "", 0);
    assert_parsed("redis://redis.internal.example:6379/1", "redis.internal.example", 6379, "",
                  1);
}

static void test_null_err_allowed(void **state)
{
    struct kv_url u;
    (void)state;
    assert_int_equal(kv_url_parse("redis://h:1/2", &u, NULL), ERR_OK);
    assert_int_equal(kv_url_parse("http://x", &u, NULL), ERR_CONFIG);
}

static void test_rediss_refused(void **state)
{
    struct err e;
    (void)state;
    assert_refused("rediss://:pw@h:6380/0", &e);
    assert_non_null(strstr(e.msg, "stunnel"));
    /* Named first, as every refusal of the configuration is. */
    assert_int_equal(strncmp(e.msg, "REDIS_URL", 9), 0);
}

static void test_refused(void **state)
{
    static const char *const bad[] = {
        "http://x",
        "",
        "redis:/h",
        "redis://",
        "redis://:pw@",
        "redis://:pw@:6379",
        "redis://h:0",
        "redis://h:99999",
        "redis://h:65536",
        "redis://h:-1",
        "redis://h:12ab",
        "redis://h:",
        "redis://h:/0",
        "redis://h:99999999999999999999",
        "redis://h/x",
        "redis://h/1x",
        "redis://h/-1",
        "redis://h/99999999999999999999",
        "redis://h:1/0/extra",
    };
    struct err e;
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(bad[i], &e);
}

static void test_long_fields(void **state)
{
    char url[2 * KV_PASSWORD_MAX + 64];
    struct kv_url u;
    struct err e;
    int n;
    (void)state;

    /* KV_PASSWORD_MAX - 1 bytes fit; one more is refused. */
    n = snprintf(url, sizeof url, "redis://:%0*d@h:1/0", KV_PASSWORD_MAX - 1, 0);
    assert_true(n > 0 && (size_t)n < sizeof url);
    assert_int_equal(kv_url_parse(url, &u, &e), ERR_OK);
    assert_int_equal(strlen(u.password), KV_PASSWORD_MAX - 1);

    snprintf(url, sizeof url, "redis://:%0*d@h:1/0", KV_PASSWORD_MAX, 0);
    assert_refused(url, &e);
    /* The message never echoes the password. */
    assert_null(strstr(e.msg, "0000000000"));

    snprintf(url, sizeof url, "redis://%0*d:1/0", KV_HOST_MAX, 0);
    assert_refused(url, &e);
}

/* Which error replies mean "Redis cannot serve now" (503), which a
 * failover (reconnect), and which are this command's own (502). */
static void test_error_kind(void **state)
{
    (void)state;
    assert_int_equal(kv_error_kind("LOADING Redis is loading the dataset in memory"), 1);
    assert_int_equal(kv_error_kind("OOM command not allowed when used memory > 'maxmemory'. "
                                   "script: ab12, on @user_script:3."), 1);
    assert_int_equal(kv_error_kind("MISCONF Redis is configured to save RDB snapshots"), 1);
    assert_int_equal(kv_error_kind("BUSY Redis is busy running a script."), 1);
    assert_int_equal(kv_error_kind("READONLY You can't write against a read only replica. "
                                   "script: ab12, on @user_script:74."), 2);
    assert_int_equal(kv_error_kind("MASTERDOWN Link with MASTER is down"), 2);
    /* Redis 6 wraps a script's failed call. */
    assert_int_equal(kv_error_kind("ERR Error running script (call to f_ab12): "
                                   "@user_script:74: -READONLY You can't write against a "
                                   "read only replica."), 2);
    assert_int_equal(kv_error_kind("ERR Error running script (call to f_ab12): "
                                   "@user_script:9: user_script:9: attempt to compare nil"), 0);
    assert_int_equal(kv_error_kind("BUSYGROUP Consumer Group name already exists"), 0);
    assert_int_equal(kv_error_kind("NOSCRIPT No matching script."), 0);
    assert_int_equal(kv_error_kind("NOGROUP No such key"), 0);
    assert_int_equal(kv_error_kind("WRONGTYPE Operation against a key"), 0);
    assert_int_equal(kv_error_kind("READONLYX"), 0);
    assert_int_equal(kv_error_kind(""), 0);
    assert_int_equal(kv_error_kind(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_null_err_allowed),
        cmocka_unit_test(test_rediss_refused),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_long_fields),
        cmocka_unit_test(test_error_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
