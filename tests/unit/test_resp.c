/* test_resp.c - unit tests for common/resp.c: the bytes must be exactly
 * those hiredis' own formatter writes for the same argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "common/resp.h"

/* Encodes with both and compares; cap is the caller's buffer size. */
static void check(int argc, const char **argv, const size_t *lens, size_t cap)
{
    char *want = NULL, *buf = malloc(cap + 1), *got;
    long long wn = redisFormatCommandArgv(&want, argc, argv, lens);
    size_t n = 0;

    assert_non_null(buf);
    assert_true(wn > 0);
    got = resp_encode(argc, argv, lens, buf, cap, &n);
    assert_non_null(got);
    assert_int_equal(n, (size_t)wn);
    assert_int_equal(resp_size(argc, argv, lens), n);
    assert_memory_equal(got, want, n);
    /* In the caller's buffer exactly when it fits. */
    if (n <= cap)
        assert_ptr_equal(got, buf);
    else
        assert_ptr_not_equal(got, buf);
    if (got != buf)
        free(got);
    free(buf);
    redisFreeCommand(want);
}

static void test_plain_strings(void **state)
{
    const char *argv[] = {"SET", "key", "value"};

    (void)state;
    check(3, argv, NULL, RESP_STACK_BYTES);
    check(3, argv, NULL, 0);            /* never fits: allocated */
}

static void test_binary_and_empty(void **state)
{
    const char *argv[] = {"HSET", "k", "", "a\r\nb\0c", "$3\r\n*"};
    const size_t lens[] = {4, 1, 0, 6, 6};

    (void)state;
    check(5, argv, lens, RESP_STACK_BYTES);
}

/* Lengths across every digit-count boundary, and a command that outgrows
 * the stack buffer by one byte. */
static void test_lengths_and_boundaries(void **state)
{
    static const size_t sizes[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000, 123456};
    char *big = malloc(123456);
    const char *argv[2] = {"X", NULL};
    size_t lens[2] = {1, 0};

    (void)state;
    assert_non_null(big);
    memset(big, 'z', 123456);
    argv[1] = big;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lens[1] = sizes[i];
        check(2, argv, lens, RESP_STACK_BYTES);
        check(2, argv, lens, resp_size(2, argv, lens));       /* exactly fits */
        check(2, argv, lens, resp_size(2, argv, lens) - 1);   /* one byte short */
    }
    free(big);
}

static void test_many_arguments(void **state)
{
    const char *argv[120];
    char text[120][8];

    (void)state;
    for (int i = 0; i < 120; i++) {
        snprintf(text[i], sizeof text[i], "a%u", (unsigned)i % 1000u);
        argv[i] = text[i];
    }
    check(120, argv, NULL, RESP_STACK_BYTES);
    check(10, argv, NULL, RESP_STACK_BYTES);
    check(1, argv, NULL, RESP_STACK_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_strings),
        cmocka_unit_test(test_binary_and_empty),
        cmocka_unit_test(test_lengths_and_boundaries),
        cmocka_unit_test(test_many_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
