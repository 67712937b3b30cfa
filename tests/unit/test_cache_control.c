/* test_cache_control.c - a submission's Cache-Control directives
 * (gateway/cache_control.h). */
#include "gateway/cache_control.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct cc_case {
    const char *value;
    enum cache_mode want;
};

static void test_modes(void **state)
{
    static const struct cc_case cases[] = {
        {NULL, CACHE_USE},
        {"", CACHE_USE},
        {"private", CACHE_USE},
        {"max-age=60", CACHE_USE},
        {"no-transform, only-if-cached", CACHE_USE},
        {"no-cache", CACHE_REFRESH},
        {"No-Cache", CACHE_REFRESH},
        {" no-cache ", CACHE_REFRESH},
        {"max-age=0", CACHE_REFRESH},
        {"MAX-AGE=0, private", CACHE_REFRESH},
        {"no-cache=\"set-cookie, x\"", CACHE_REFRESH},  /* a quoted comma is no separator */
        {"private,,no-cache", CACHE_REFRESH},
        {"no-store", CACHE_BYPASS},
        {"no-cache, no-store", CACHE_BYPASS},
        {"no-store,no-cache", CACHE_BYPASS},
        {"max-age=0,\tno-store", CACHE_BYPASS},
        /* Not these directives, or malformed: nothing asked. */
        {"no-cachex", CACHE_USE},
        {"xno-store", CACHE_USE},
        {"max-age=00", CACHE_USE},
        {"max-age=0x", CACHE_USE},
        {"no-cache junk", CACHE_USE},
        {"no-cache=\"unterminated", CACHE_USE},
        {"private \"no-store\"", CACHE_USE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum cache_mode got = cache_control_mode(cases[i].value);
        if (got != cases[i].want)
            fail_msg("[%s]: %d, want %d", cases[i].value ? cases[i].value : "(null)", got,
                     cases[i].want);
    }
}

static void test_long_value_is_not_read(void **state)
{
    char v[CACHE_CONTROL_MAX + 2];

    (void)state;
    memset(v, ' ', sizeof v);
    memcpy(v + CACHE_CONTROL_MAX - 8, "no-store", 8);
    v[CACHE_CONTROL_MAX] = '\0';
    assert_int_equal(cache_control_mode(v), CACHE_BYPASS);
    v[CACHE_CONTROL_MAX] = ' ';
    v[CACHE_CONTROL_MAX + 1] = '\0';
    assert_int_equal(cache_control_mode(v), CACHE_USE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_long_value_is_not_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
