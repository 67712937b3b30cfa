/* test_decimal.c - unit tests for common/decimal.c, against snprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/decimal.h"

static void check(uint64_t v)
{
    char want[32], got[DECIMAL_MAX + 1];
    int n = snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    size_t k;

    memset(got, 'x', sizeof got);
    k = decimal_put(got, v);
    assert_int_equal(k, (size_t)n);
    assert_int_equal(decimal_len(v), (size_t)n);
    assert_memory_equal(got, want, k);
    if (k < sizeof got)
        assert_int_equal(got[k], 'x');     /* nothing written past the digits */
}

static void test_powers_of_ten_and_neighbours(void **state)
{
    uint64_t p = 1;

    (void)state;
    check(0);
    for (int i = 0; i < 20; i++) {
        check(p - 1);
        check(p);
        check(p + 1);
        if (i < 19)
            p *= 10;
    }
}

static void test_extremes(void **state)
{
    (void)state;
    check(UINT64_MAX);
    check(UINT64_MAX - 1);
    check((uint64_t)INT64_MAX);
    assert_int_equal(decimal_len(UINT64_MAX), DECIMAL_MAX);
}

static void check_signed(int64_t v)
{
    char want[32], got[DECIMAL_STR_MAX];
    int n = snprintf(want, sizeof want, "%lld", (long long)v);

    assert_int_equal(decimal_str(got, v), (size_t)n);
    assert_string_equal(got, want);
}

static void test_signed(void **state)
{
    (void)state;
    check_signed(0);
    check_signed(7);
    check_signed(-7);
    check_signed(-1000000000000LL);
    check_signed(INT64_MAX);
    check_signed(INT64_MIN);
    check_signed(INT64_MIN + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_powers_of_ten_and_neighbours),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
