/* test_clock.c - unit tests for clock_rfc3339 (common/clock.c): exact text
 * for known instants, leap days and the last second of year 9999, the
 * per-thread cache of the last second across later, earlier and repeated
 * instants, and the epoch for what it cannot show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"

static const struct {
    int64_t ms;
    const char *text;
} known[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {1795342448725, "2026-11-22T10:14:08.725Z"},
    {1795342448999, "2026-11-22T10:14:08.999Z"},
    {1795342449000, "2026-11-22T10:14:09.000Z"},
    {1795342448001, "2026-11-22T10:14:08.001Z"},    /* back a second */
    {951782399999, "2000-02-28T23:59:59.999Z"},
    {951782400000, "2000-02-29T00:00:00.000Z"},
    {951782400050, "2000-02-29T00:00:00.050Z"},     /* same second again */
    {253402300799999, "9999-12-31T23:59:59.999Z"},
};

static void test_known_instants(void **state)
{
    char buf[CLOCK_RFC3339_LEN];

    (void)state;
    for (int round = 0; round < 2; round++)         /* cold, then every one cached or not */
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
            memset(buf, 'x', sizeof buf);
            assert_ptr_equal(clock_rfc3339(known[i].ms, buf), buf);
            assert_string_equal(buf, known[i].text);
        }
}

static void test_every_millisecond_of_a_second(void **state)
{
    char buf[CLOCK_RFC3339_LEN], want[CLOCK_RFC3339_LEN];

    (void)state;
    for (int ms = 0; ms < 1000; ms++) {
        snprintf(want, sizeof want, "2026-11-22T10:14:08.%03uZ", (unsigned)ms % 1000u);
        clock_rfc3339(1795342448000 + ms, buf);
        assert_string_equal(buf, want);
    }
}

static void test_unshowable_is_the_epoch(void **state)
{
    char buf[CLOCK_RFC3339_LEN];

    (void)state;
    clock_rfc3339(1795342448725, buf);              /* a second cached */
    assert_string_equal(clock_rfc3339(-1, buf), "1970-01-01T00:00:00.000Z");
    /* Year 10000 does not fit the 19 characters. */
    assert_string_equal(clock_rfc3339(253402300800000, buf), "1970-01-01T00:00:00.000Z");
    /* And the cache did not keep the refusal. */
    assert_string_equal(clock_rfc3339(1795342448725, buf), "2026-11-22T10:14:08.725Z");
}

static void test_parse_round_trips(void **state)
{
    static const int64_t instants[] = {0, 1795342448725, 951782400000 /* 2000-02-29 */,
                                       253402300799999};
    char buf[CLOCK_RFC3339_LEN];
    int64_t ms;
    (void)state;

    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        ms = -1;
        assert_int_equal(clock_parse_rfc3339(clock_rfc3339(instants[i], buf), &ms), 0);
        assert_int_equal(ms, instants[i]);
    }
    /* Fractions are optional; past milliseconds they are dropped. */
    assert_int_equal(clock_parse_rfc3339("2026-11-22T10:14:08Z", &ms), 0);
    assert_int_equal(ms, 1795342448000);
    assert_int_equal(clock_parse_rfc3339("2026-11-22T10:14:08.7Z", &ms), 0);
    assert_int_equal(ms, 1795342448700);
    assert_int_equal(clock_parse_rfc3339("2026-11-22T10:14:08.725999Z", &ms), 0);
    assert_int_equal(ms, 1795342448725);
}

static void test_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "", "2026-11-22", "2026-11-22T10:14:08", "2026-11-22T10:14:08+01:00",
        "2026-11-22 10:14:08Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z", "2026-11-22T10:14:08.Z",
        "2026-11-22T10:14:08Zx", "1969-12-31T23:59:59Z", "2026-1-22T10:14:08Z",
        " 2026-11-22T10:14:08Z", "+026-11-22T10:14:08Z",
    };
    int64_t ms = 42;
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(clock_parse_rfc3339(bad[i], &ms), -1);
    assert_int_equal(clock_parse_rfc3339(NULL, &ms), -1);
    assert_int_equal(ms, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_instants),
        cmocka_unit_test(test_every_millisecond_of_a_second),
        cmocka_unit_test(test_unshowable_is_the_epoch),
        cmocka_unit_test(test_parse_round_trips),
        cmocka_unit_test(test_parse_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
