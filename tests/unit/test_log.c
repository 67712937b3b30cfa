/* test_log.c - unit tests for common/log.c, linked against it alone.
 *
 * stdout is redirected (dup2) to a temporary file around each logging call,
 * then restored before any assertion, so cmocka's own output is untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

#include "tests/unit/capture.h"

/* Asserts out is exactly one line and parses it as a JSON object (owns). */
static cJSON *one_line(const char *out)
{
    size_t n = strlen(out);
    cJSON *doc;

    assert_true(n > 0);
    assert_int_equal(out[n - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + n - 1);
    doc = cJSON_ParseWithLength(out, n);
    assert_non_null(doc);
    assert_true(cJSON_IsObject(doc));
    return doc;
}

/* Asserts the members every line carries. */
static void assert_header(const cJSON *doc, const char *level, const char *event)
{
    const char *ts = json_str(doc, "ts");

    assert_non_null(ts);
    /* "2026-11-21T20:43:54.123Z" */
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[4], '-');
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    assert_string_equal(json_str(doc, "level"), level);
    assert_string_equal(json_str(doc, "proc"), "unit_proc");
    assert_string_equal(json_str(doc, "event"), event);
}

static int setup(void **state)
{
    (void)state;
    log_init("unit_proc", LOG_INFO);
    return 0;
}

static void test_line_fields(void **state)
{
    struct capture c;
    struct log_line l;
    cJSON *doc;
    char *out;
    (void)state;

    capture_begin(&c);
    log_begin(&l, LOG_INFO, "job_done");
    log_str(&l, "job_id", "01890a5d-ac96-774b-bcce-b302099a8057");
    log_int(&l, "duration_ms", 42);
    log_int(&l, "neg", INT64_MIN);
    log_int(&l, "zero", 0);
    log_int(&l, "minus", -7);
    log_int(&l, "max", INT64_MAX);
    log_ms(&l, "ms", 1234567);
    log_ms(&l, "ms_small", 5);
    log_ms(&l, "ms_zero", 0);
    log_ms(&l, "ms_neg", -3);
    log_ms(&l, "ms_tenth", 1200);
    log_str(&l, "nothing", NULL);
    log_strn(&l, "prefix", "abcdef", 3);
    log_end(&l);
    out = capture_end(&c);

    doc = one_line(out);
    assert_header(doc, "info", "job_done");
    assert_string_equal(json_str(doc, "job_id"), "01890a5d-ac96-774b-bcce-b302099a8057");
    assert_int_equal(cJSON_GetObjectItem(doc, "duration_ms")->valuedouble, 42);
    assert_non_null(strstr(out, "\"neg\":-9223372036854775808,"));
    assert_non_null(strstr(out, "\"zero\":0,"));
    assert_non_null(strstr(out, "\"minus\":-7,"));
    assert_non_null(strstr(out, "\"max\":9223372036854775807,"));
    assert_non_null(strstr(out, "\"ms\":1234.567,"));
    assert_non_null(strstr(out, "\"ms_small\":0.005,"));
    assert_non_null(strstr(out, "\"ms_zero\":0.000,"));
    assert_non_null(strstr(out, "\"ms_neg\":0.000,"));
    assert_non_null(strstr(out, "\"ms_tenth\":1.200,"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "nothing")));
    assert_string_equal(json_str(doc, "prefix"), "abc");
    assert_null(cJSON_GetObjectItem(doc, "truncated"));
    /* The first members come in the documented order. */
    assert_memory_equal(out, "{\"ts\":\"", 7);
    assert_true(strstr(out, "\"level\"") < strstr(out, "\"proc\""));
    assert_true(strstr(out, "\"proc\"") < strstr(out, "\"event\""));
    cJSON_Delete(doc);
    free(out);
}

static void test_escaping(void **state)
{
    static const char val[] = "say \"hi\" \\ back\nslash\ttab\rcr\x01\x1f\x7f end/\xc3\xa9";
    struct capture c;
    struct log_line l;
    cJSON *doc;
    char *out;
    (void)state;

    capture_begin(&c);
    log_begin(&l, LOG_WARN, "escape_check");
    log_str(&l, "v", val);
    log_strn(&l, "nul", "a\0b", 3);
    log_end(&l);
    out = capture_end(&c);

    /* No raw control byte except the final newline. */
    for (size_t i = 0; out[i + 1] != '\0'; i++)
        assert_true((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    doc = one_line(out);
    assert_header(doc, "warn", "escape_check");
    assert_string_equal(json_str(doc, "v"), val);
    assert_non_null(strstr(out, "\\\"hi\\\""));
    assert_non_null(strstr(out, "\\\\ back\\nslash"));
    /* An embedded NUL is escaped, not written raw or cut. */
    assert_non_null(strstr(out, "\"nul\":\"a\\u0000b\""));
    cJSON_Delete(doc);
    free(out);
}

static void test_level_filtering(void **state)
{
    struct capture c;
    struct log_line l;
    char *out;
    (void)state;

    assert_int_equal(log_enabled(LOG_DEBUG), 0);
    assert_int_equal(log_enabled(LOG_INFO), 1);
    assert_int_equal(log_enabled(LOG_ERROR), 1);

    capture_begin(&c);
    log_begin(&l, LOG_DEBUG, "hidden");
    log_str(&l, "k", "v");
    log_int(&l, "n", 1);
    log_ms(&l, "d", 1500);
    log_end(&l);
    log_event(LOG_DEBUG, "hidden_too", "k", "v");
    out = capture_end(&c);
    assert_string_equal(out, "");
    assert_int_equal(l.enabled, 0);
    free(out);

    log_init("unit_proc", LOG_ERROR);
    capture_begin(&c);
    log_event(LOG_WARN, "hidden_warn", NULL, NULL);
    log_event(LOG_ERROR, "shown_error", "why", "because");
    out = capture_end(&c);
    log_init("unit_proc", LOG_INFO);
    {
        cJSON *doc = one_line(out);
        assert_header(doc, "error", "shown_error");
        assert_string_equal(json_str(doc, "why"), "because");
        cJSON_Delete(doc);
    }
    free(out);

    log_init("unit_proc", LOG_DEBUG);
    capture_begin(&c);
    log_event(LOG_DEBUG, "shown_debug", NULL, NULL);
    out = capture_end(&c);
    log_init("unit_proc", LOG_INFO);
    {
        cJSON *doc = one_line(out);
        assert_header(doc, "debug", "shown_debug");
        /* key NULL: no extra member beyond ts, level, proc, event. */
        assert_int_equal(cJSON_GetArraySize(doc), 4);
        cJSON_Delete(doc);
    }
    free(out);
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
    assert_int_equal(log_level_parse("info"), LOG_INFO);
    assert_int_equal(log_level_parse("warn"), LOG_WARN);
    assert_int_equal(log_level_parse("error"), LOG_ERROR);
    assert_int_equal(log_level_parse("INFO"), LOG_INFO);
    assert_int_equal(log_level_parse("verbose"), -1);
    assert_int_equal(log_level_parse(""), -1);
    assert_int_equal(log_level_parse("info "), -1);
}

static void test_errfields(void **state)
{
    struct capture c;
    struct err e1, e2;
    struct log_line l;
    cJSON *doc;
    char *out;
    (void)state;

    err_set_field(&e1, ERR_MISSING_FIELD, "file_path", "file_path is required");
    err_set(&e2, ERR_TIMEOUT, "slow");
    capture_begin(&c);
    log_begin(&l, LOG_ERROR, "e1");
    log_errfields(&l, &e1);
    log_end(&l);
    log_begin(&l, LOG_ERROR, "e2");
    log_errfields(&l, &e2);
    log_end(&l);
    out = capture_end(&c);

    {
        char *second = strchr(out, '\n') + 1;
        char saved = *second;
        *second = '\0';
        doc = one_line(out);
        *second = saved;
        assert_string_equal(json_str(doc, "code"), "missing_field");
        assert_string_equal(json_str(doc, "detail"), "file_path is required");
        assert_string_equal(json_str(doc, "field"), "file_path");
        cJSON_Delete(doc);
        doc = one_line(second);
        assert_string_equal(json_str(doc, "code"), "timeout");
        assert_string_equal(json_str(doc, "detail"), "slow");
        assert_null(cJSON_GetObjectItem(doc, "field"));
        cJSON_Delete(doc);
    }
    free(out);
}

/* Logs `before`, then a value of n copies of ch, then `after`; returns the
 * captured output (owns). */
static char *log_big(size_t n, char ch)
{
    struct capture c;
    struct log_line l;
    char *big = malloc(n + 1);

    assert_non_null(big);
    memset(big, ch, n);
    big[n] = '\0';
    capture_begin(&c);
    log_begin(&l, LOG_INFO, "big");
    log_str(&l, "before", "kept");
    log_str(&l, "value", big);
    log_int(&l, "after", 7);
    log_end(&l);
    free(big);
    return capture_end(&c);
}

static void test_truncation(void **state)
{
    char *out;
    cJSON *doc;
    (void)state;

    out = log_big(10000, 'x');
    assert_true(strlen(out) <= LOG_LINE_MAX + 2);
    doc = one_line(out);
    assert_header(doc, "info", "big");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "truncated")));
    assert_string_equal(json_str(doc, "before"), "kept");
    cJSON_Delete(doc);
    free(out);

    /* Escaping makes each byte six: the cut happens while escaping. */
    out = log_big(2000, '\x01');
    assert_true(strlen(out) <= LOG_LINE_MAX + 2);
    doc = one_line(out);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "truncated")));
    cJSON_Delete(doc);
    free(out);
}

/* Around the limit, every size gives one valid line within bounds: a field
 * is either whole or absent, and once one is dropped so are the rest. */
static void boundary_sweep(char ch, size_t from, size_t to)
{
    int whole = 0, cut = 0;

    for (size_t n = from; n <= to; n++) {
        char *out = log_big(n, ch);
        cJSON *doc;
        const cJSON *v, *after;

        assert_true(strlen(out) <= LOG_LINE_MAX + 2);
        doc = one_line(out);
        v = cJSON_GetObjectItem(doc, "value");
        after = cJSON_GetObjectItem(doc, "after");
        assert_string_equal(json_str(doc, "before"), "kept");
        if (v != NULL)
            assert_int_equal(strlen(v->valuestring), n);
        if (cJSON_IsTrue(cJSON_GetObjectItem(doc, "truncated"))) {
            assert_null(after);
            cut++;
        } else {
            assert_non_null(v);
            assert_non_null(after);
            assert_int_equal(after->valuedouble, 7);
            whole++;
        }
        cJSON_Delete(doc);
        free(out);
    }
    /* The sweep really crossed the limit. */
    assert_true(whole > 0);
    assert_true(cut > 0);
}

static void test_truncation_boundary(void **state)
{
    (void)state;
    boundary_sweep('y', LOG_LINE_MAX - 250, LOG_LINE_MAX);
    boundary_sweep('"', (LOG_LINE_MAX - 250) / 2, LOG_LINE_MAX / 2);
    boundary_sweep('\x02', (LOG_LINE_MAX - 250) / 6, LOG_LINE_MAX / 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_fields),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_level_filtering),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_errfields),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_truncation_boundary),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
