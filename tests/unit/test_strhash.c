/* test_strhash.c - unit tests for common/strhash.c: FNV-1a 64's published
 * vectors, folded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/strhash.h"

static uint64_t folded(uint64_t h)
{
    return h ^ (h >> 29);
}

static void test_fnv1a_vectors(void **state)
{
    (void)state;
    assert_true(strhash("") == folded(UINT64_C(0xcbf29ce484222325)));
    assert_true(strhash("a") == folded(UINT64_C(0xaf63dc4c8601ec8c)));
    assert_true(strhash("foobar") == folded(UINT64_C(0x85944171f73967e8)));
}

static void test_bytes_above_0x7f(void **state)
{
    (void)state;
    /* Unsigned bytes: "\xff" differs from what a signed char would give. */
    assert_true(strhash("\xff") == folded((UINT64_C(0xcbf29ce484222325) ^ 0xff) *
                                          UINT64_C(1099511628211)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_bytes_above_0x7f),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
