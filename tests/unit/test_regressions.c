/* test_regressions.c - bugs found by review, kept as regression tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/relpath.h"
#include "common/utf8.h"
#include "gateway/validate.h"

static void test_mask_url_at_in_password(void **state)
{
    char out[128];
    (void)state;
    /* kv_url_parse() accepts this URL: password "p@ss", host "h". */
    config_mask_url("redis://:p@ss@h:1/0", out, sizeof out);
    assert_string_equal(out, "redis://:***@h:1/0");
}

static void test_mask_url_query_password(void **state)
{
    char out[128];
    (void)state;
    config_mask_url("postgresql://db/ci?user=ci&password=hunter2", out, sizeof out);
    assert_null(strstr(out, "hunter2"));
}

static void test_config_ignores_other_procs(void **state)
{
    struct config cfg;
    struct err e;
    (void)state;
    setenv("DATABASE_URL", "postgresql://db/ci", 1);
    setenv("CODEINSIGHT_KEY_PEPPER", "pepper-0123456789abcdef0123456789abcdef", 1);
    setenv("CODEINSIGHT_JWT_SECRET", "jwtsecret-0123456789abcdef0123456789abcdef", 1);
    setenv("CODEINSIGHT_LINT_TIMEOUT_MS", "abc", 1);     /* worker only */
    assert_int_equal(config_load(&cfg, CFG_GATEWAY, &e), ERR_OK);
    unsetenv("CODEINSIGHT_LINT_TIMEOUT_MS");
}

static void test_log_line_is_utf8(void **state)
{
    struct log_line l;
    (void)state;
    log_begin(&l, LOG_INFO, "access");
    log_str(&l, "path", "/job/\xff");
    assert_int_equal(utf8_valid(l.buf, l.len, NULL), 1);
}

static void test_nul_escape_in_escaped_key(void **state)
{
    static const char body[] = "{\"request_type\":\"review\",\"file\\u005fpath\":\"a\\u0000b\","
                               "\"file_content\":\"c\"}";
    struct review_request r;
    struct err e;
    (void)state;
    assert_int_equal(review_parse(body, sizeof body - 1, NULL, NULL, &r, &e), ERR_INVALID_FILE_PATH);
    assert_string_equal(e.field, "file_path");
}

static void test_relpath_c1_control(void **state)
{
    (void)state;
    assert_int_equal(relpath_valid("a\xc2\x85" "b.py", 6), 0);   /* U+0085 NEL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_url_at_in_password),
        cmocka_unit_test(test_mask_url_query_password),
        cmocka_unit_test(test_config_ignores_other_procs),
        cmocka_unit_test(test_log_line_is_utf8),
        cmocka_unit_test(test_nul_escape_in_escaped_key),
        cmocka_unit_test(test_relpath_c1_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
