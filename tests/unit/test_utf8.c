/* test_utf8.c - unit tests for common/utf8.c, linked against it alone.
 *
 * Every input is copied into a heap buffer of exactly its length, so ASan
 * catches a read past len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"

#define NO_BAD ((size_t)-1)

/* utf8_valid on an exact-size copy of s[0..len); *bad left at NO_BAD when
 * the function does not set it. */
static int check(const char *s, size_t len, size_t *bad)
{
    char *copy = malloc(len ? len : 1);
    int ok;

    assert_non_null(copy);
    memcpy(copy, s, len);
    *bad = NO_BAD;
    ok = utf8_valid(copy, len, bad);
    free(copy);
    return ok;
}

#define VALID(lit)                                                  \
    do {                                                            \
        size_t bad_;                                                \
        assert_int_equal(check(lit, sizeof lit - 1, &bad_), 1);     \
    } while (0)

#define INVALID_AT(lit, at)                                         \
    do {                                                            \
        size_t bad_;                                                \
        assert_int_equal(check(lit, sizeof lit - 1, &bad_), 0);     \
        assert_int_equal(bad_, (at));                               \
    } while (0)

static void test_empty(void **state)
{
    (void)state;
    assert_int_equal(utf8_valid("", 0, NULL), 1);
    assert_int_equal(utf8_valid(NULL, 0, NULL), 1);
}

static void test_ascii(void **state)
{
    (void)state;
    VALID("hello, world\n\t~");
    VALID("\x01\x7f");
}

static void test_multibyte(void **state)
{
    (void)state;
    VALID("\xc2\x80");              /* U+0080, smallest 2-byte */
    VALID("\xc3\xa9t\xc3\xa9");     /* été */
    VALID("\xdf\xbf");              /* U+07FF */
    VALID("\xe0\xa0\x80");          /* U+0800, smallest 3-byte */
    VALID("\xe2\x82\xac");          /* euro sign */
    VALID("\xed\x9f\xbf");          /* U+D7FF, just below the surrogates */
    VALID("\xee\x80\x80");          /* U+E000, just above them */
    VALID("\xef\xbf\xbf");          /* U+FFFF */
    VALID("\xf0\x90\x80\x80");      /* U+10000, smallest 4-byte */
    VALID("\xf0\x9f\x98\x80");      /* emoji */
    VALID("\xf4\x8f\xbf\xbf");      /* U+10FFFF, the maximum */
    VALID("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z");
}

static void test_embedded_nul_is_valid(void **state)
{
    size_t bad;
    (void)state;
    /* U+0000 is valid UTF-8; refusing NUL is the caller's business. */
    assert_int_equal(check("a\0b", 3, &bad), 1);
}

static void test_lone_continuation(void **state)
{
    (void)state;
    INVALID_AT("\x80", 0);
    INVALID_AT("abc\xbf", 3);
    INVALID_AT("\xc3\xa9\x80", 2);
}

static void test_overlong(void **state)
{
    (void)state;
    INVALID_AT("\xc0\x80", 0);
    INVALID_AT("\xc0\xaf", 0);
    INVALID_AT("\xc1\xbf", 0);
    INVALID_AT("x\xe0\x80\x80", 1);
    INVALID_AT("\xe0\x9f\xbf", 0);
    INVALID_AT("\xf0\x80\x80\x80", 0);
    INVALID_AT("\xf0\x8f\xbf\xbf", 0);
}

static void test_surrogates(void **state)
{
    (void)state;
    INVALID_AT("\xed\xa0\x80", 0);  /* U+D800 */
    INVALID_AT("ab\xed\xbf\xbf", 2); /* U+DFFF */
    INVALID_AT("\xed\xa0\xbd\xed\xb8\x80", 0); /* CESU-8 pair */
}

static void test_above_max(void **state)
{
    (void)state;
    INVALID_AT("\xf4\x90\x80\x80", 0);   /* U+110000 */
    INVALID_AT("\xf5\x80\x80\x80", 0);
    INVALID_AT("\xf7\xbf\xbf\xbf", 0);
    INVALID_AT("\xf8\x88\x80\x80\x80", 0);
    INVALID_AT("\xfc\x84\x80\x80\x80\x80", 0);
    INVALID_AT("a\xfe", 1);
    INVALID_AT("a\xff", 1);
}

static void test_bad_continuation(void **state)
{
    (void)state;
    INVALID_AT("\xc3\x28", 0);
    INVALID_AT("\xe2\x28\xa1", 0);
    INVALID_AT("\xe2\x82\x28", 0);
    INVALID_AT("\xf0\x9f\x98\x28", 0);
    INVALID_AT("ok\xf0\x9f\x28\x80", 2);
}

static void test_truncated_at_end(void **state)
{
    (void)state;
    INVALID_AT("\xc3", 0);
    INVALID_AT("abc\xe2\x82", 3);
    INVALID_AT("\xe2", 0);
    INVALID_AT("xy\xf0\x9f\x98", 2);
    INVALID_AT("\xf0", 0);
}

/* The length bounds the scan: a valid sequence cut by len is invalid, and
 * bytes after len are never looked at. */
static void test_len_bounds(void **state)
{
    size_t bad = NO_BAD;
    (void)state;
    assert_int_equal(utf8_valid("\xe2\x82\xac", 2, &bad), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(utf8_valid("ab\xff", 2, NULL), 1);
}

static void test_bad_may_be_null(void **state)
{
    (void)state;
    assert_int_equal(utf8_valid("\xff", 1, NULL), 0);
}

/* The ASCII fast path reads eight bytes at a time: a bad byte, a valid
 * two-byte character and a truncated one at every offset of a long run. */
static void test_every_offset_of_ascii_run(void **state)
{
    enum { RUN = 40 };
    char buf[RUN];
    size_t bad;

    (void)state;
    for (size_t k = 0; k < RUN; k++) {
        memset(buf, 'a', RUN);
        buf[k] = (char)0xff;
        assert_int_equal(check(buf, RUN, &bad), 0);
        assert_int_equal(bad, k);
        if (k + 1 < RUN) {
            memset(buf, 'a', RUN);
            buf[k] = (char)0xc3;
            buf[k + 1] = (char)0xa9;
            assert_int_equal(check(buf, RUN, &bad), 1);
            assert_int_equal(bad, NO_BAD);
        }
        memset(buf, 'a', RUN);
        buf[k] = (char)0xc3;                /* truncated by the end of the input */
        assert_int_equal(check(buf, k + 1, &bad), 0);
        assert_int_equal(bad, k);
    }
}

/* a, e-acute, euro sign, an emoji, a Cyrillic word: 1- to 4-byte characters. */
static const char MIXED[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z "
                            "\xd0\x9d\xd0\xb5\xd0\xb2\xd0\xb5\xd1\x80\xd0\xbd\xd0\xbe";

/* utf8_cut at every budget: the longest prefix within it that ends on a
 * character boundary (a character is at most 4 bytes). */
static void test_cut_every_budget(void **state)
{
    size_t len = sizeof MIXED - 1, bad;

    (void)state;
    for (size_t max = 0; max <= len + 1; max++) {
        size_t n = utf8_cut(MIXED, len, max);
        assert_true(n <= max && n <= len);
        assert_true(n + 3 >= (max < len ? max : len));
        assert_int_equal(check(MIXED, n, &bad), 1);
    }
    assert_int_equal(utf8_cut(MIXED, len, len), len);
    assert_int_equal(utf8_cut(MIXED, len, 2), 1);          /* not half of the e-acute */
    assert_int_equal(utf8_prec(MIXED, 2), 1);
    assert_int_equal(utf8_prec(MIXED, 3), 3);
    assert_int_equal(utf8_prec(MIXED, 100), (int)len);
}

/* utf8_tail at every budget: the longest suffix within it that starts on a
 * character boundary. */
static void test_tail_every_budget(void **state)
{
    size_t len = sizeof MIXED - 1, bad;

    (void)state;
    for (size_t max = 0; max <= len + 1; max++) {
        size_t i = utf8_tail(MIXED, len, max);
        assert_true(i <= len && len - i <= max);
        assert_true(len - i + 3 >= (max < len ? max : len));
        assert_int_equal(check(MIXED + i, len - i, &bad), 1);
    }
    assert_int_equal(utf8_tail(MIXED, len, len + 5), 0);
    assert_int_equal(utf8_tail(MIXED, len, 1), len - 0);    /* half of the last letter */
    assert_int_equal(utf8_tail(MIXED, len, 2), len - 2);
}

/* utf8_fmt into every buffer size: a prefix of the whole text, cut after
 * the last character that fits, never inside one. */
static void test_fmt_every_size(void **state)
{
    size_t len = sizeof MIXED - 1 + 4, bad;
    char whole[64], buf[64];

    (void)state;
    assert_int_equal(utf8_fmt(whole, sizeof whole, "(%s)%d", MIXED, 42), len);
    for (size_t cap = 1; cap <= len + 2; cap++) {
        size_t n;

        memset(buf, 'X', sizeof buf);
        n = utf8_fmt(buf, cap, "(%s)%d", MIXED, 42);
        assert_int_equal(n, strlen(buf));
        assert_true(n < cap);
        assert_true(n + 4 >= (cap - 1 < len ? cap - 1 : len));
        assert_memory_equal(buf, whole, n);
        assert_int_equal(check(buf, n, &bad), 1);
        assert_int_equal(buf[cap], 'X');                   /* nothing past cap */
    }
}

/* What Debug Doctor stores: a failure note of Cyrillic text cut to its
 * 256-byte reason, at whatever offset the prefix leaves the cut. */
static void test_fmt_cyrillic_note(void **state)
{
    char text[2048], reason[256];
    size_t n = 0, bad;

    (void)state;
    for (int i = 0; i < 40; i++)
        n += utf8_fmt(text + n, sizeof text - n, "%s",
                      "\xd0\x9d\xd0\xb5\xd0\xb2\xd0\xb5\xd1\x80\xd0\xbd\xd0\xbe\xd0\xb5 ");
    for (size_t pre = 0; pre < 4; pre++) {
        n = utf8_fmt(reason, sizeof reason, "%.*sstill fails:\n%s", (int)pre, "xyz", text);
        assert_true(n >= sizeof reason - 4 && n < sizeof reason);
        assert_int_equal(check(reason, n, &bad), 1);
    }
}

/* Only the cut is mended: text that fits is written as given, even when an
 * argument is not UTF-8. */
static void test_fmt_leaves_what_fits(void **state)
{
    char buf[8];

    (void)state;
    assert_int_equal(utf8_fmt(buf, sizeof buf, "%s", "ab\xff\xc3"), 4);
    assert_string_equal(buf, "ab\xff\xc3");
    assert_int_equal(utf8_fmt(buf, sizeof buf, "%s", "abcdefgh"), 7);
    assert_string_equal(buf, "abcdefg");
    assert_int_equal(utf8_fmt(buf, 1, "%s", "\xc3\xa9"), 0);
    assert_string_equal(buf, "");
    assert_int_equal(utf8_fmt(buf, 2, "%s", "\xc3\xa9"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_multibyte),
        cmocka_unit_test(test_embedded_nul_is_valid),
        cmocka_unit_test(test_lone_continuation),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_surrogates),
        cmocka_unit_test(test_above_max),
        cmocka_unit_test(test_bad_continuation),
        cmocka_unit_test(test_truncated_at_end),
        cmocka_unit_test(test_len_bounds),
        cmocka_unit_test(test_bad_may_be_null),
        cmocka_unit_test(test_every_offset_of_ascii_run),
        cmocka_unit_test(test_cut_every_budget),
        cmocka_unit_test(test_tail_every_budget),
        cmocka_unit_test(test_fmt_every_size),
        cmocka_unit_test(test_fmt_cyrillic_note),
        cmocka_unit_test(test_fmt_leaves_what_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
