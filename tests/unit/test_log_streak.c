/* test_log_streak.c - one line when failures start, one when they end
 * (common/log_streak.h). */
#include "common/err.h"
#include "common/log.h"
#include "common/log_streak.h"
#include "tests/unit/capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static int lines(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void test_a_streak_logs_twice(void **state)
{
    struct log_streak s = {0};
    struct capture c;
    struct err e;
    char *out;

    (void)state;
    log_init("test", LOG_INFO);
    err_set(&e, ERR_REDIS_UNAVAILABLE, "LOADING Redis is loading the dataset in memory");
    capture_begin(&c);
    log_streak_ok(&s, "x_recovered");           /* nothing failed: nothing */
    for (int i = 0; i < 50; i++)
        log_streak_fail(&s, "x_failed", &e);
    out = capture_end(&c);
    assert_int_equal(lines(out), 1);
    assert_non_null(strstr(out, "\"event\":\"x_failed\""));
    assert_non_null(strstr(out, "\"level\":\"warn\""));
    assert_non_null(strstr(out, "LOADING Redis is loading"));
    assert_int_equal(s.failures, 50);
    free(out);

    capture_begin(&c);
    log_streak_ok(&s, "x_recovered");
    log_streak_ok(&s, "x_recovered");           /* once only */
    out = capture_end(&c);
    assert_int_equal(lines(out), 1);
    assert_non_null(strstr(out, "\"event\":\"x_recovered\""));
    assert_non_null(strstr(out, "\"failures\":50"));
    assert_non_null(strstr(out, "\"duration_ms\":"));
    assert_int_equal(s.failures, 0);
    free(out);

    /* A new streak logs again. */
    capture_begin(&c);
    log_streak_fail(&s, "x_failed", &e);
    log_streak_fail(&s, "x_failed", &e);
    log_streak_ok(&s, "x_recovered");
    out = capture_end(&c);
    assert_int_equal(lines(out), 2);
    assert_non_null(strstr(out, "\"failures\":2"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_streak_logs_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
