/* test_relpath.c - unit tests for common/relpath.c, linked against it alone.
 *
 * Each path is copied into a heap buffer of exactly its length (no NUL), so
 * ASan catches a read past len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/relpath.h"

static int valid_n(const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    int ok;

    assert_non_null(copy);
    memcpy(copy, s, len);
    ok = relpath_valid(copy, len);
    free(copy);
    return ok;
}

/* String literal form: the length excludes the literal's NUL. */
#define VALID(lit)   assert_int_equal(valid_n(lit, sizeof lit - 1), 1)
#define INVALID(lit) assert_int_equal(valid_n(lit, sizeof lit - 1), 0)

static void test_accepted(void **state)
{
    (void)state;
    VALID("a.py");
    VALID("a");
    VALID("src/a.py");
    VALID("./a.py");
    VALID("a/./b.py");
    VALID("dir.d/x");
    VALID("..foo");
    VALID("foo..");
    VALID("a/..b/c");
    VALID("...");
    VALID("\xc3\xbcn\xc3\xaf" "code.py");      /* ünïcode.py */
    VALID("src\\win\\a.c");
    VALID("a b/c d.txt");
    VALID(".hidden");
}

static void test_absolute(void **state)
{
    (void)state;
    INVALID("/etc/passwd");
    INVALID("/");
    INVALID("\\server\\share");
    INVALID("C:\\x");
    INVALID("c:/x");
    INVALID("C:");
}

static void test_dotdot(void **state)
{
    (void)state;
    INVALID("..");
    INVALID("../a");
    INVALID("a/../b");
    INVALID("a\\..\\b");
    INVALID("a/..");
    INVALID("a/b/../../../etc/passwd");
    INVALID("a\\..");
}

static void test_not_a_file(void **state)
{
    (void)state;
    INVALID("");
    INVALID("a/");
    INVALID("a\\");
    INVALID("a/.");
    INVALID(".");
    INVALID("./");
}

static void test_control_chars(void **state)
{
    (void)state;
    INVALID("a\nb");
    INVALID("a\tb");
    INVALID("a\rb.py");
    INVALID("\x01");
    INVALID("a\x1f");
    INVALID("a\x7f" "b");
    assert_int_equal(valid_n("a\0b", 3), 0);   /* embedded NUL */
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    INVALID("a\xff.py");
    INVALID("\xc0\xaf");
    INVALID("x\xed\xa0\x80");
    INVALID("x\xe2\x82");
}

/* len, not the NUL, ends the path. */
static void test_len_bounds(void **state)
{
    (void)state;
    assert_int_equal(relpath_valid("a.py/..", 4), 1);
    assert_int_equal(relpath_valid("a/", 1), 1);
    assert_int_equal(relpath_valid("a/", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_absolute),
        cmocka_unit_test(test_dotdot),
        cmocka_unit_test(test_not_a_file),
        cmocka_unit_test(test_control_chars),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_len_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
