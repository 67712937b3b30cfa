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

/* Fails unless out holds each of the strings given, up to NULL. */
static void assert_has(const char *out, ...)
{
    va_list ap;
    const char *want;

    va_start(ap, out);
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (strstr(out, want) == NULL)
            fail_msg("%s not in %s", want, out);
    }
    va_end(ap);
}

/* What fn(s, e) wrote, after checking it is n lines. */
static char *written(void (*fn)(struct log_streak *, const struct err *), struct log_streak *s,
                     const struct err *e, int n)
{
    struct capture c;
    char *out;

    capture_begin(&c);
    fn(s, e);
    out = capture_end(&c);
    assert_int_equal(lines(out), n);
    return out;
}

static void fail_50(struct log_streak *s, const struct err *e)
{
    log_streak_ok(s, "x_recovered");            /* nothing failed: nothing */
    for (int i = 0; i < 50; i++)
        log_streak_fail(s, "x_failed", e);
}

static void ok_twice(struct log_streak *s, const struct err *e)
{
    (void)e;
    log_streak_ok(s, "x_recovered");
    log_streak_ok(s, "x_recovered");            /* once only */
}

static void fail_2_ok(struct log_streak *s, const struct err *e)
{
    log_streak_fail(s, "x_failed", e);
    log_streak_fail(s, "x_failed", e);
    log_streak_ok(s, "x_recovered");
}

static void test_a_streak_logs_twice(void **state)
{
    struct log_streak s = {0};
    struct err e;
    char *out;

    (void)state;
    log_init("test", LOG_INFO);
    err_set(&e, ERR_REDIS_UNAVAILABLE, "LOADING Redis is loading the dataset in memory");
    out = written(fail_50, &s, &e, 1);
    assert_has(out, "\"event\":\"x_failed\"", "\"level\":\"warn\"", "LOADING Redis is loading",
               NULL);
    assert_int_equal(s.failures, 50);
    free(out);

    out = written(ok_twice, &s, &e, 1);
    assert_has(out, "\"event\":\"x_recovered\"", "\"failures\":50", "\"duration_ms\":", NULL);
    assert_int_equal(s.failures, 0);
    free(out);

    /* A new streak logs again. */
    out = written(fail_2_ok, &s, &e, 2);
    assert_has(out, "\"failures\":2", NULL);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_streak_logs_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
