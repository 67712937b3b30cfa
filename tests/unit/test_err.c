/* test_err.c - unit tests for common/err.c, linked against it alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/utf8.h"

/* 1 when s is non-empty lower snake_case: [a-z0-9_], starting with a letter,
 * no leading, trailing or doubled underscore. */
static int is_snake_case(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '_')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
        if (c == '_' && s[i + 1] == '_')
            return 0;
    }
    return 1;
}

static void test_names_distinct_snake_case(void **state)
{
    (void)state;
    for (int i = 0; i < ERR__COUNT; i++) {
        const char *name = err_code_str((enum err_code)i);
        assert_non_null(name);
        assert_true(is_snake_case(name));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(name, err_code_str((enum err_code)j));
    }
    assert_string_equal(err_code_str(ERR_OK), "ok");
    assert_string_equal(err_code_str(ERR_INVALID_JSON), "invalid_json");
    assert_string_equal(err_code_str(ERR_OPERATOR_ONLY), "operator_only");
}

static void test_titles_non_empty(void **state)
{
    (void)state;
    for (int i = 0; i < ERR__COUNT; i++) {
        const char *t = err_title((enum err_code)i);
        assert_non_null(t);
        assert_true(t[0] != '\0');
    }
}

static void test_status_range(void **state)
{
    (void)state;
    for (int i = 0; i < ERR__COUNT; i++) {
        int s = err_http_status((enum err_code)i);
        assert_in_range(s, 200, 599);
    }
    assert_int_equal(err_http_status(ERR_OK), 200);
}

/* Codes caused by the client's request: all 4xx, with their exact status. */
static void test_client_errors_are_4xx(void **state)
{
    static const struct {
        enum err_code code;
        int status;
    } client[] = {
        {ERR_INVALID_JSON, 400},         {ERR_INVALID_FIELD_TYPE, 400},
        {ERR_MISSING_FIELD, 400},        {ERR_INVALID_REQUEST_TYPE, 400},
        {ERR_INVALID_FILE_PATH, 400},    {ERR_INVALID_ENCODING, 400},
        {ERR_FIELD_TOO_LONG, 400},       {ERR_INVALID_FIELD_VALUE, 400},
        {ERR_BODY_TOO_LARGE, 413},       {ERR_UNSUPPORTED_MEDIA_TYPE, 415},
        {ERR_METHOD_NOT_ALLOWED, 405},   {ERR_NOT_FOUND, 404},
        {ERR_JOB_NOT_FOUND, 404},        {ERR_OPERATOR_ONLY, 403},
    };
    (void)state;
    for (size_t i = 0; i < sizeof client / sizeof client[0]; i++)
        assert_int_equal(err_http_status(client[i].code), client[i].status);
}

/* Server-side and dependency failures are never blamed on the client. */
static void test_server_errors_are_5xx(void **state)
{
    static const enum err_code server[] = {
        ERR_INTERNAL, ERR_REDIS_UNAVAILABLE, ERR_DATABASE_UNAVAILABLE, ERR_NOT_READY,
        ERR_CONFIG,   ERR_IO,                ERR_TIMEOUT,              ERR_PROTOCOL,
    };
    (void)state;
    for (size_t i = 0; i < sizeof server / sizeof server[0]; i++)
        assert_in_range(err_http_status(server[i]), 500, 599);
    assert_int_equal(err_http_status(ERR_REDIS_UNAVAILABLE), 503);
    assert_int_equal(err_http_status(ERR_TIMEOUT), 504);
}

static void test_out_of_range_code(void **state)
{
    (void)state;
    assert_string_equal(err_code_str(ERR__COUNT), "internal_error");
    assert_string_equal(err_code_str((enum err_code)-1), "internal_error");
    assert_int_equal(err_http_status(ERR__COUNT), 500);
    assert_true(err_title((enum err_code)1000)[0] != '\0');
}

static void test_set_fills(void **state)
{
    struct err e;
    (void)state;

    memset(&e, 0x55, sizeof e);
    assert_int_equal(err_set(&e, ERR_IO, "open %s: %d", "x", 2), ERR_IO);
    assert_int_equal(e.code, ERR_IO);
    assert_int_equal(e.http_status, 500);
    assert_string_equal(e.msg, "open x: 2");
    assert_string_equal(e.field, "");
}

static void test_set_truncates(void **state)
{
    struct err e;
    char big[3 * ERR_MSG_MAX];
    (void)state;

    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(err_set(&e, ERR_INTERNAL, "%s", big), ERR_INTERNAL);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    assert_int_equal(e.msg[0], 'm');

    /* A cut never splits a character: "a " and 150 "é" (2 bytes each)
     * would be cut inside one by bytes (2 + 2k + 1 = ERR_MSG_MAX - 1). */
    for (size_t i = 0; i < 150; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[300] = '\0';
    assert_int_equal(ERR_MSG_MAX % 2, 0);
    err_set(&e, ERR_NOT_FOUND, "a %s", big);
    assert_true(strlen(e.msg) < ERR_MSG_MAX);
    assert_true(strlen(e.msg) >= ERR_MSG_MAX - 2);
    assert_true(utf8_valid(e.msg, strlen(e.msg), NULL));
}

static void test_set_field(void **state)
{
    struct err e;
    char longfield[200];
    (void)state;

    assert_int_equal(err_set_field(&e, ERR_MISSING_FIELD, "file_path", "%s is required",
                                   "file_path"),
                     ERR_MISSING_FIELD);
    assert_int_equal(e.code, ERR_MISSING_FIELD);
    assert_int_equal(e.http_status, 400);
    assert_string_equal(e.field, "file_path");
    assert_string_equal(e.msg, "file_path is required");

    /* A later err_set without a field resets it. */
    err_set(&e, ERR_INVALID_JSON, "bad");
    assert_string_equal(e.field, "");

    memset(longfield, 'f', sizeof longfield - 1);
    longfield[sizeof longfield - 1] = '\0';
    err_set_field(&e, ERR_INVALID_FIELD_VALUE, longfield, "x");
    assert_int_equal(strlen(e.field), sizeof e.field - 1);
}

static void test_null_err(void **state)
{
    (void)state;
    assert_int_equal(err_set(NULL, ERR_TIMEOUT, "t %d", 1), ERR_TIMEOUT);
    assert_int_equal(err_set_field(NULL, ERR_MISSING_FIELD, "f", "m"), ERR_MISSING_FIELD);
    err_clear(NULL);
}

static void test_clear(void **state)
{
    struct err e;
    (void)state;

    err_set_field(&e, ERR_NOT_FOUND, "x", "gone");
    err_clear(&e);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(e.msg, "");
    assert_string_equal(e.field, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_distinct_snake_case),
        cmocka_unit_test(test_titles_non_empty),
        cmocka_unit_test(test_status_range),
        cmocka_unit_test(test_client_errors_are_4xx),
        cmocka_unit_test(test_server_errors_are_5xx),
        cmocka_unit_test(test_out_of_range_code),
        cmocka_unit_test(test_set_fills),
        cmocka_unit_test(test_set_truncates),
        cmocka_unit_test(test_set_field),
        cmocka_unit_test(test_null_err),
        cmocka_unit_test(test_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
