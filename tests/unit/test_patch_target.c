/* test_patch_target.c - unit tests for common/patch_target.c: which of a
 * job's files a debug fix is for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/patch_target.h"

static const char *path_at(const void *files, int i)
{
    return ((const char *const *)files)[i];
}

static int target(const char *diff, const char *const *paths, int n)
{
    return patch_target(diff, paths, n, path_at);
}

#define HEAD(name) "--- a/x\n+++ " name "\n@@ -1 +1 @@\n-a\n+b\n"

static void test_exact_name_wins(void **state)
{
    const char *const files[] = {"stats.py", "b/stats.py", "lib/util.py"};
    const char *const main_only[] = {"stats.py", "lib/util.py"};

    (void)state;
    /* "+++ b/stats.py" is the neighbour b/stats.py, not stats.py after "b/". */
    assert_int_equal(target(HEAD("b/stats.py"), files, 3), 1);
    assert_int_equal(target(HEAD("stats.py"), files, 3), 0);
    /* Without b/stats.py, "b/" + stats.py is the main file. */
    assert_int_equal(target(HEAD("b/stats.py"), main_only, 2), 0);
    assert_int_equal(target(HEAD("b/lib/util.py\t2026-01-01"), main_only, 2), 1);
}

static void test_no_header_and_unknown_names(void **state)
{
    const char *const files[] = {"main.py", NULL, "util.py"};

    (void)state;
    /* No "+++ " header: the file the diff was made against, the main one. */
    assert_int_equal(target("@@ -1 +1 @@\n-a\n+b\n", files, 3), 0);
    /* A name not submitted; no files at all. */
    assert_int_equal(target(HEAD("b/other.py"), files, 3), -1);
    assert_int_equal(target(HEAD("util.py"), files, 0), -1);
    assert_int_equal(target(HEAD("util.py"), files, 3), 2);
    assert_int_equal(target(NULL, files, 3), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_name_wins),
        cmocka_unit_test(test_no_header_and_unknown_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
