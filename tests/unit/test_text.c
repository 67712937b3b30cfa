/* test_text.c - unit tests for common/text.c: pieces append in order across
 * growths, the text is always NUL-terminated, an empty text is "", and
 * finishing hands the text over and resets the builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/text.h"

static void test_grows_in_order(void **state)
{
    struct text t = TEXT_INIT;
    char want[5000], *s;

    (void)state;
    for (int i = 0; i < 1000; i++) {        /* well past the first 256 bytes */
        char piece[8];
        int n = snprintf(piece, sizeof piece, "%d,", i % 10);
        text_put(&t, piece, (size_t)n);
        memcpy(want + 2 * i, piece, 2);
        assert_int_equal(t.p[t.len], '\0');
    }
    want[2000] = '\0';
    assert_int_equal(t.len, 2000);
    assert_true(t.cap > t.len);
    s = text_finish(&t);
    assert_string_equal(s, want);
    assert_null(t.p);                       /* handed over, builder reset */
    assert_int_equal(t.len, 0);
    free(s);
}

static void test_empty_and_zero_length(void **state)
{
    struct text t = TEXT_INIT;
    char *s;

    (void)state;
    text_put(&t, "", 0);
    s = text_finish(&t);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_puts_appends_strings(void **state)
{
    struct text t = TEXT_INIT;
    char *s;

    (void)state;
    text_puts(&t, "{\"a\":");
    text_puts(&t, "");
    text_put(&t, "1}xyz", 2);
    s = text_finish(&t);
    assert_string_equal(s, "{\"a\":1}");
    free(s);
}

static void test_oom_gives_null(void **state)
{
    struct text t = TEXT_INIT;

    (void)state;
    text_put(&t, "abc", 3);
    t.oom = 1;                              /* as after a failed realloc */
    text_put(&t, "def", 3);
    assert_int_equal(t.len, 3);             /* nothing more appended */
    assert_null(text_finish(&t));
    assert_int_equal(t.oom, 0);
}

/* text_sink is a json_sink: a JSON string written through it parses back. */
static void test_json_sink(void **state)
{
    static const char raw[] = "a\"b\\c\nd\x02";
    struct text t = TEXT_INIT;
    cJSON *back;
    char *s;

    (void)state;
    json_write_string(text_sink, &t, raw, sizeof raw - 1);
    s = text_finish(&t);
    assert_string_equal(s, "\"a\\\"b\\\\c\\nd\\u0002\"");
    back = cJSON_Parse(s);
    assert_true(cJSON_IsString(back));
    assert_string_equal(back->valuestring, raw);
    cJSON_Delete(back);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_in_order),
        cmocka_unit_test(test_empty_and_zero_length),
        cmocka_unit_test(test_puts_appends_strings),
        cmocka_unit_test(test_oom_gives_null),
        cmocka_unit_test(test_json_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
