/* test_etag.c - entity tags and If-None-Match (gateway/etag.h). */
#include "gateway/etag.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_tag_is_quoted_hex_of_the_bytes(void **state)
{
    char a[ETAG_LEN], b[ETAG_LEN], c[ETAG_LEN];

    (void)state;
    etag_of("{\"status\":\"done\"}", 17, a);
    etag_of("{\"status\":\"done\"}", 17, b);
    etag_of("{\"status\":\"dona\"}", 17, c);
    assert_int_equal(strlen(a), ETAG_LEN - 1);
    assert_int_equal(a[0], '"');
    assert_int_equal(a[ETAG_LEN - 2], '"');
    for (int i = 1; i < ETAG_LEN - 2; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    /* SHA-256("") starts e3b0c44298fc1c149afbf4c8996fb924. */
    etag_of("", 0, a);
    assert_string_equal(a, "\"e3b0c44298fc1c149afbf4c8996fb924\"");
}

#define TAG "\"e3b0c44298fc1c149afbf4c8996fb924\""

static void test_matching_lists(void **state)
{
    static const char *const match[] = {
        TAG, " " TAG " ", "W/" TAG, "\"x\", " TAG, TAG ",\"x\"", "\"x\",W/" TAG ", \"y\"",
        ", ," TAG ",", "*", " * ", "\"x\"\t,\t" TAG,
    };
    (void)state;
    for (size_t i = 0; i < sizeof match / sizeof match[0]; i++) {
        if (!etag_none_match(match[i], TAG))
            fail_msg("should match: [%s]", match[i]);
    }
}

static void test_what_does_not_match(void **state)
{
    static const char *const miss[] = {
        "", "   ", "\"x\"", "\"e3b0c44298fc1c149afbf4c8996fb92\"",     /* one digit short */
        "e3b0c44298fc1c149afbf4c8996fb924",                             /* unquoted */
        "w/" TAG,                                                       /* W/ is upper case */
        "\"x\" " TAG,                                                   /* no comma */
        TAG " junk", "\"x\", junk, " TAG,                               /* malformed: nothing */
        "\"unterminated, " TAG, "*, " TAG, "**",
        "\"a\"b\"", TAG "W/",
    };
    (void)state;
    assert_int_equal(etag_none_match(NULL, TAG), 0);
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        if (etag_none_match(miss[i], TAG))
            fail_msg("should not match: [%s]", miss[i]);
    }
}

static void test_long_header_is_not_read(void **state)
{
    char *h = malloc(ETAG_HEADER_MAX + 2);
    size_t tag_len = strlen(TAG), fill = ETAG_HEADER_MAX - tag_len;

    (void)state;
    assert_non_null(h);
    /* ETAG_HEADER_MAX bytes: blanks and commas, then our tag. Read. */
    for (size_t i = 0; i < fill; i++)
        h[i] = i % 2 ? ',' : ' ';
    memcpy(h + fill, TAG, tag_len + 1);
    assert_int_equal(strlen(h), ETAG_HEADER_MAX);
    assert_int_equal(etag_none_match(h, TAG), 1);
    /* One byte more: not read at all. */
    memmove(h + 1, h, ETAG_HEADER_MAX + 1);
    h[0] = ' ';
    assert_int_equal(strlen(h), ETAG_HEADER_MAX + 1);
    assert_int_equal(etag_none_match(h, TAG), 0);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_is_quoted_hex_of_the_bytes),
        cmocka_unit_test(test_matching_lists),
        cmocka_unit_test(test_what_does_not_match),
        cmocka_unit_test(test_long_header_is_not_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
