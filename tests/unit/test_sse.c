/* test_sse.c - unit tests for gateway/sse.c: event ids and frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/sse.h"

static void test_id_parse(void **state)
{
    struct sse_id id;
    (void)state;

    assert_int_equal(sse_id_parse("1767225600000-3", &id), 0);
    assert_true(id.ms == 1767225600000ULL && id.seq == 3);
    assert_int_equal(sse_id_parse("42", &id), 0);
    assert_true(id.ms == 42 && id.seq == 0);
    assert_int_equal(sse_id_parse("18446744073709551615-18446744073709551615", &id), 0);
    assert_true(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
}

static void test_id_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "", "-", "1-", "-1", "1--2", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ", "+1-2",
        "18446744073709551616-0", "0-18446744073709551616", "123456789012345678901-0",
        "1.5-0", "0x10-0",
    };
    struct sse_id id = {7, 7};
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sse_id_parse(bad[i], &id), -1);
        assert_true(id.ms == 0 && id.seq == 0);
    }
    assert_int_equal(sse_id_parse(NULL, &id), -1);
}

static void test_id_order(void **state)
{
    struct sse_id a = {5, 0}, b = {5, 1}, c = {6, 0}, q = SSE_ID_QUEUED, zero = {0, 0};
    char buf[SSE_ID_MAX + 1];
    (void)state;

    assert_true(sse_id_cmp(&a, &b) < 0 && sse_id_cmp(&b, &a) > 0);
    assert_true(sse_id_cmp(&b, &c) < 0);
    assert_int_equal(sse_id_cmp(&a, &a), 0);
    /* The synthesised queued event sorts after 0-0 and before any entry. */
    assert_true(sse_id_cmp(&zero, &q) < 0 && sse_id_cmp(&q, &a) < 0);
    assert_string_equal(sse_id_str(&q, buf), "0-1");
    c.ms = UINT64_MAX;
    c.seq = UINT64_MAX;
    assert_int_equal(strlen(sse_id_str(&c, buf)), SSE_ID_MAX);
}

static void test_frame(void **state)
{
    size_t len;
    char *f;
    (void)state;

    f = sse_frame("12-0", "running", "{\"type\":\"running\"}", &len);
    assert_non_null(f);
    assert_string_equal(f, "id: 12-0\nevent: running\ndata: {\"type\":\"running\"}\n\n");
    assert_int_equal(len, strlen(f));
    free(f);
}

static void test_frame_multiline_data(void **state)
{
    size_t len;
    char *f;
    (void)state;

    /* A raw line break must never end the event early. */
    f = sse_frame("1-1", "x", "a\nb\r\nc\rd", &len);
    assert_non_null(f);
    assert_string_equal(f, "id: 1-1\nevent: x\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    assert_int_equal(len, strlen(f));
    free(f);
    f = sse_frame("1-2", "x", "", &len);
    assert_string_equal(f, "id: 1-2\nevent: x\ndata: \n\n");
    free(f);
}

static void test_retry_and_final(void **state)
{
    size_t len;
    char *r = sse_retry(3000, &len);
    (void)state;

    assert_string_equal(r, "retry: 3000\n\n");
    assert_int_equal(len, strlen(r));
    free(r);
    assert_true(sse_type_final("done") && sse_type_final("failed") &&
                sse_type_final("cancelled"));
    assert_false(sse_type_final("running") || sse_type_final("queued") ||
                 sse_type_final("cancel_requested") ||
                 sse_type_final("donex") || sse_type_final(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_parse),
        cmocka_unit_test(test_id_parse_refuses),
        cmocka_unit_test(test_id_order),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_frame_multiline_data),
        cmocka_unit_test(test_retry_and_final),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
