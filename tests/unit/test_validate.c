/* test_validate.c - unit tests for gateway/validate.c (review_parse).
 *
 * Every body is copied into a heap buffer of exactly its length, without a
 * terminating NUL, so ASan catches a read past len anywhere in the parser.
 * Each error case asserts the exact code and field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/relpath.h"
#include "tests/unit/fixture.h"
#include "gateway/validate.h"

/* The three required members, as raw JSON values. */
#define RT "\"review\""
#define FP "\"src/a.py\""
#define FC "\"x = 1\\n\""

static int parse_n(const char *body, size_t len, struct review_request *r, struct err *e)
{
    char *copy = fixture_exact_copy(body, len);
    int rc;

    err_clear(e);
    rc = review_parse(copy, len, NULL, NULL, r, e);
    /* On success the request must not borrow from the body: free it first. */
    free(copy);
    return rc;
}

static int parse(const char *body, struct review_request *r, struct err *e)
{
    return parse_n(body, strlen(body), r, e);
}

/* Asserts body[0..len) fails with code and field, leaving r empty. */
static void expect_err_n(const char *body, size_t len, enum err_code code, const char *field)
{
    struct review_request r;
    struct err e;
    int rc;

    memset(&r, 0x5a, sizeof r);
    rc = parse_n(body, len, &r, &e);
    if (rc != (int)code || strcmp(e.field, field) != 0)
        print_error("body %.*s: got %s field \"%s\" (%s), want %s field \"%s\"\n",
                    (int)(len > 300 ? 300 : len), body, err_code_str((enum err_code)rc),
                    e.field, e.msg, err_code_str(code), field);
    assert_int_equal(rc, code);
    assert_int_equal(e.code, code);
    assert_string_equal(e.field, field);
    assert_int_equal(e.http_status, err_http_status(code));
    assert_true(e.msg[0] != '\0');
    assert_null(r.doc);
    assert_null(r.file_path);
    assert_null(r.file_content);
}

static void expect_err(const char *body, enum err_code code, const char *field)
{
    expect_err_n(body, strlen(body), code, field);
}

/* Builds {"request_type":RT,"file_path":FP,"file_content":FC} with member
 * `name` set to the raw JSON `raw` (added when it is not one of the three;
 * omitted when raw is NULL). Owns the result. */
static char *body_with(const char *name, const char *raw)
{
    const char *rt = RT, *fp = FP, *fc = FC;
    const char *extra_name = NULL;
    size_t cap;
    char *out, *p;
    int n;

    if (strcmp(name, "request_type") == 0)
        rt = raw;
    else if (strcmp(name, "file_path") == 0)
        fp = raw;
    else if (strcmp(name, "file_content") == 0)
        fc = raw;
    else
        extra_name = name;
    cap = 128 + strlen(name) + (raw ? strlen(raw) : 0) + strlen(RT FP FC);
    out = malloc(cap);
    assert_non_null(out);
    p = out;
    p += snprintf(p, cap, "{");
    if (rt != NULL)
        p += snprintf(p, cap - (size_t)(p - out), "\"request_type\":%s,", rt);
    if (fp != NULL)
        p += snprintf(p, cap - (size_t)(p - out), "\"file_path\":%s,", fp);
    if (fc != NULL)
        p += snprintf(p, cap - (size_t)(p - out), "\"file_content\":%s,", fc);
    if (extra_name != NULL && raw != NULL)
        p += snprintf(p, cap - (size_t)(p - out), "\"%s\":%s,", extra_name, raw);
    if (p[-1] == ',')
        p--;
    n = snprintf(p, cap - (size_t)(p - out), "}");
    assert_true(n == 1);
    return out;
}

static void expect_err_with(const char *name, const char *raw, enum err_code code,
                            const char *field)
{
    char *body = body_with(name, raw);
    expect_err(body, code, field);
    free(body);
}

/* Parses the default body with name set to raw; asserts success (r owns). */
static void parse_ok_with(const char *name, const char *raw, struct review_request *r)
{
    struct err e;
    char *body = body_with(name, raw);
    int rc = parse(body, r, &e);

    if (rc != ERR_OK)
        print_error("body %s: %s field \"%s\" (%s)\n", body, err_code_str((enum err_code)rc),
                    e.field, e.msg);
    free(body);
    assert_int_equal(rc, ERR_OK);
    assert_non_null(r->doc);
}

/* A JSON string value of n copies of ch. Owns. */
static char *json_string_of(size_t n, char ch)
{
    char *s = malloc(n + 3);

    assert_non_null(s);
    s[0] = '"';
    memset(s + 1, ch, n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    return s;
}

/* --- accepted ------------------------------------------------------------ */

static void test_minimal(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    assert_int_equal(parse("{\"file_path\":\"a.py\",\"file_content\":\"x=1\\n\","
                           "\"request_type\":\"review\"}", &r, &e),
                     ERR_OK);
    assert_int_equal(e.code, ERR_OK);
    assert_non_null(r.doc);
    assert_int_equal(r.type, JOB_REVIEW);
    assert_string_equal(r.file_path, "a.py");
    assert_string_equal(r.file_content, "x=1\n");
    assert_null(r.language);
    assert_null(r.repo_id);
    assert_null(r.diff);
    assert_null(r.error_log);
    assert_int_equal(r.has_cursor, 0);
    review_request_cleanup(&r);
    assert_null(r.doc);
}

static void test_full(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    assert_int_equal(parse("{\"request_type\":\"debug\",\"file_path\":\"src/app/main.py\","
                           "\"file_content\":\"print('hi')\",\"repo_id\":\"acme/shop\","
                           "\"language\":\"Python\",\"cursor_context\":{\"line\":3,"
                           "\"end_line\":7},\"diff\":\"--- a/m.py\\n+++ b/m.py\\n@@ -1 +1 @@\\n"
                           "-print(1)\\n\\\\ No newline at end of file\\n+print('hi')\\n"
                           "\\\\ No newline at end of file\\n\","
                           "\"error_log\":\"Traceback (most recent call last)\"}",
                           &r, &e),
                     ERR_OK);
    assert_int_equal(r.type, JOB_DEBUG);
    assert_string_equal(r.file_path, "src/app/main.py");
    assert_string_equal(r.file_content, "print('hi')");
    assert_string_equal(r.repo_id, "acme/shop");
    assert_string_equal(r.language, "python");
    assert_int_equal(r.has_cursor, 1);
    assert_int_equal(r.cursor_line, 3);
    assert_int_equal(r.cursor_end_line, 7);
    assert_string_equal(r.diff, "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-print(1)\n"
                                "\\ No newline at end of file\n+print('hi')\n"
                                "\\ No newline at end of file\n");
    assert_null(r.filter);          /* debug: the diff is context, nothing is filtered */
    assert_string_equal(r.error_log, "Traceback (most recent call last)");
    review_request_cleanup(&r);
}

static void test_request_types(void **state)
{
    struct review_request r;
    (void)state;

    parse_ok_with("request_type", "\"review\"", &r);
    assert_int_equal(r.type, JOB_REVIEW);
    review_request_cleanup(&r);
    /* debug and architecture need more (test_validate_task.c). */
    expect_err_with("request_type", "\"debug\"", ERR_MISSING_FIELD, "error_log");
    expect_err_with("request_type", "\"architecture\"", ERR_MISSING_FIELD, "user_request");
    expect_err_with("request_type", "\"stress\"", ERR_FEATURE_DISABLED, "");
}

static void test_cursor_line_only(void **state)
{
    struct review_request r;
    (void)state;

    parse_ok_with("cursor_context", "{\"line\":12}", &r);
    assert_int_equal(r.has_cursor, 1);
    assert_int_equal(r.cursor_line, 12);
    assert_int_equal(r.cursor_end_line, 12);
    review_request_cleanup(&r);

    parse_ok_with("cursor_context", "{\"line\":5,\"end_line\":5}", &r);
    assert_int_equal(r.cursor_end_line, 5);
    review_request_cleanup(&r);

    parse_ok_with("cursor_context", "{\"line\":1,\"end_line\":null}", &r);
    assert_int_equal(r.cursor_end_line, 1);
    review_request_cleanup(&r);

    parse_ok_with("cursor_context", "{\"line\":10000000}", &r);
    assert_int_equal(r.cursor_line, REVIEW_CURSOR_LINE_MAX);
    review_request_cleanup(&r);
}

static void test_null_optionals(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    assert_int_equal(parse("{\"request_type\":\"review\",\"file_path\":\"a.py\","
                           "\"file_content\":\"\",\"language\":null,\"repo_id\":null,"
                           "\"diff\":null,\"error_log\":null,\"cursor_context\":null}",
                           &r, &e),
                     ERR_OK);
    assert_string_equal(r.file_content, "");    /* empty content is still content */
    assert_null(r.language);
    assert_null(r.repo_id);
    assert_null(r.diff);
    assert_null(r.error_log);
    assert_int_equal(r.has_cursor, 0);
    review_request_cleanup(&r);
}

static void test_unknown_fields_ignored(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    assert_int_equal(parse("{\"foo\":\"bar\",\"request_type\":\"review\",\"n\":1,"
                           "\"file_path\":\"a.py\",\"extra\":{\"nested\":[1,{\"x\":null}]},"
                           "\"file_content\":\"c\",\"flag\":true,\"Language\":\"x y\"}",
                           &r, &e),
                     ERR_OK);
    assert_string_equal(r.file_path, "a.py");
    assert_null(r.language);      /* member names are case-sensitive */
    review_request_cleanup(&r);
}

static void test_whitespace_around(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    assert_int_equal(parse(" \r\n\t{ \"request_type\" : \"review\" , \"file_path\" : \"a.py\" ,"
                           " \"file_content\" : \"c\" } \r\n\t ", &r, &e),
                     ERR_OK);
    review_request_cleanup(&r);
}

static void test_accepted_values(void **state)
{
    static const char *const langs[] = {"\"c++\"", "\"C#\"", "\"objective-c\"",
                                        "\"f_sharp\"", "\"node.js\"", "\"py3\""};
    static const char *const paths[] = {"\"a.py\"", "\"./a.py\"", "\"a/./b.py\"",
                                        "\"..foo\"", "\"\\u00fcn\\u00efcode.py\"",
                                        "\"\xc3\xa9t\xc3\xa9.py\""};
    struct review_request r;
    char *s;
    (void)state;

    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        parse_ok_with("language", langs[i], &r);
        review_request_cleanup(&r);
    }
    parse_ok_with("language", "\"C++\"", &r);
    assert_string_equal(r.language, "c++");
    review_request_cleanup(&r);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        parse_ok_with("file_path", paths[i], &r);
        review_request_cleanup(&r);
    }
    /* Valid multi-byte UTF-8 and escapes in the content. */
    parse_ok_with("file_content", "\"\xe2\x82\xac \xf0\x9f\x98\x80 \\ud83d\\ude00 \\t\"", &r);
    assert_string_equal(r.file_content, "\xe2\x82\xac \xf0\x9f\x98\x80 \xf0\x9f\x98\x80 \t");
    review_request_cleanup(&r);

    /* Limits are inclusive: a path of REVIEW_FILE_PATH_MAX bytes (in
     * segments no longer than a file name, RELPATH_NAME_MAX). */
    s = json_string_of(REVIEW_FILE_PATH_MAX, 'p');
    for (int i = 200; i < REVIEW_FILE_PATH_MAX; i += 200)
        s[i] = '/';
    parse_ok_with("file_path", s, &r);
    assert_int_equal(strlen(r.file_path), REVIEW_FILE_PATH_MAX);
    review_request_cleanup(&r);
    free(s);
    /* One spelling: "." and empty segments dropped, in the job as queued. */
    parse_ok_with("file_path", "\"./src//app/./main.py\"", &r);
    assert_string_equal(r.file_path, "src/app/main.py");
    review_request_cleanup(&r);
    s = json_string_of(REVIEW_LANGUAGE_MAX, 'l');
    parse_ok_with("language", s, &r);
    review_request_cleanup(&r);
    free(s);
    s = json_string_of(REVIEW_REPO_ID_MAX, 'r');
    parse_ok_with("repo_id", s, &r);
    review_request_cleanup(&r);
    free(s);
}

/* --- body-level errors -------------------------------------------------- */

static void test_empty_body(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    expect_err_n("", 0, ERR_INVALID_JSON, "");
    err_clear(&e);
    assert_int_equal(review_parse(NULL, 0, NULL, NULL, &r, &e), ERR_INVALID_JSON);
    assert_null(r.doc);
    expect_err(" \n", ERR_INVALID_JSON, "");
}

static void test_raw_nul(void **state)
{
    static const char body[] = "{\"request_type\":\"review\",\"file_path\":\"a\0.py\","
                               "\"file_content\":\"c\"}";
    (void)state;
    expect_err_n(body, sizeof body - 1, ERR_INVALID_JSON, "");
    expect_err_n("{}\0", 3, ERR_INVALID_JSON, "");
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "{",
        "}",
        "{\"request_type\":}",
        "{\"request_type\" \"review\"}",
        "{'request_type':'review'}",
        "{\"request_type\":\"review\",}",
        "{\"request_type\":\"review",
        "nope",
        "{\"a\":\"\\x\"}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err(bad[i], ERR_INVALID_JSON, "");
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    expect_err("{\"request_type\":\"review\",\"file_path\":\"a.py\",\"file_content\":\"c\"}x",
               ERR_INVALID_JSON, "");
    expect_err("{\"request_type\":\"review\",\"file_path\":\"a.py\",\"file_content\":\"c\"} {}",
               ERR_INVALID_JSON, "");
    expect_err("{\"request_type\":\"review\",\"file_path\":\"a.py\",\"file_content\":\"c\"}}",
               ERR_INVALID_JSON, "");
}

static void test_not_an_object(void **state)
{
    static const char *const bad[] = {"[]", "[{\"request_type\":\"review\"}]", "\"review\"",
                                      "1", "null", "true"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err(bad[i], ERR_INVALID_JSON, "");
}

/* Every proper prefix of a valid body is malformed, and never read past. */
static void test_every_prefix(void **state)
{
    static const char full[] = "{\"request_type\":\"debug\",\"file_path\":\"a/b.c\","
                               "\"file_content\":\"int \\u00e9;\",\"language\":\"C\","
                               "\"error_log\":\"b.c:1: error\","
                               "\"cursor_context\":{\"line\":2,\"end_line\":3}}";
    struct review_request r;
    struct err e;
    (void)state;

    for (size_t len = 0; len < sizeof full - 1; len++)
        expect_err_n(full, len, ERR_INVALID_JSON, "");
    assert_int_equal(parse_n(full, sizeof full - 1, &r, &e), ERR_OK);
    review_request_cleanup(&r);
}

/* --- field types ---------------------------------------------------------- */

static void test_wrong_types(void **state)
{
    static const char *const fields[] = {"request_type", "file_path", "file_content",
                                         "language",     "repo_id",   "diff",
                                         "error_log"};
    static const char *const values[] = {"1", "0.5", "{}", "{\"a\":\"b\"}", "true", "false",
                                         "[]", "[\"a.py\"]"};
    (void)state;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            expect_err_with(fields[f], values[v], ERR_INVALID_FIELD_TYPE, fields[f]);
}

/* The first malformed field is named, even when a required one is missing. */
static void test_type_error_before_missing(void **state)
{
    (void)state;
    expect_err("{\"file_path\":7}", ERR_INVALID_FIELD_TYPE, "file_path");
    expect_err("{\"language\":[]}", ERR_INVALID_FIELD_TYPE, "language");
}

/* --- missing ---------------------------------------------------------------- */

static void test_missing(void **state)
{
    (void)state;
    expect_err_with("request_type", NULL, ERR_MISSING_FIELD, "request_type");
    expect_err_with("file_path", NULL, ERR_MISSING_FIELD, "file_path");
    expect_err_with("file_content", NULL, ERR_MISSING_FIELD, "file_content");
    expect_err_with("request_type", "null", ERR_MISSING_FIELD, "request_type");
    expect_err_with("file_path", "null", ERR_MISSING_FIELD, "file_path");
    expect_err_with("file_content", "null", ERR_MISSING_FIELD, "file_content");
    expect_err("{}", ERR_MISSING_FIELD, "request_type");
    expect_err("{\"request_type\":\"review\"}", ERR_MISSING_FIELD, "file_path");
    expect_err("{\"request_type\":\"review\",\"file_path\":\"a.py\"}", ERR_MISSING_FIELD,
               "file_content");
}

static void test_unknown_request_type(void **state)
{
    static const char *const bad[] = {"\"lint\"", "\"Review\"", "\"REVIEW\"", "\"\"",
                                      "\"review \"", "\"architecture\\n\""};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err_with("request_type", bad[i], ERR_INVALID_REQUEST_TYPE, "request_type");
}

/* --- file_path ------------------------------------------------------------------ */

static void test_bad_file_path(void **state)
{
    static const char *const bad[] = {
        "\"/etc/passwd\"",
        "\"..\"",
        "\"../a.py\"",
        "\"a/../b\"",
        "\"a\\\\..\\\\b\"",
        "\"C:\\\\x\"",
        "\"\\\\server\\\\share\"",
        "\"\"",
        "\"a/\"",
        "\"a/.\"",
        "\".\"",
        "\"a\\u0001b\"",
        "\"a\\nb\"",
        "\"a\\tb.py\"",
        "\"a\\u007fb\"",
        "\"a\\u0000b\"",
        "\"\\u0000\"",
        "\"a.py\\u0000.txt\"",
        "\"\xff.py\"",                  /* not UTF-8 */
        "\"\xc0\xaf" "etc/passwd\"",    /* overlong '/' */
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err_with("file_path", bad[i], ERR_INVALID_FILE_PATH, "file_path");
}

/* RFC 8259: a raw control byte inside any string makes the text invalid JSON. */
static void test_raw_control_is_invalid_json(void **state)
{
    struct review_request r;
    struct err e;
    static const char body[] = "{\"request_type\":\"review\",\"file_path\":\"a\x01" "b\","
                               "\"file_content\":\"x\"}";
    static const char content[] = "{\"request_type\":\"review\",\"file_path\":\"a.py\","
                                  "\"file_content\":\"line\nnext\"}";
    (void)state;
    assert_int_equal(review_parse(body, sizeof body - 1, NULL, NULL, &r, &e), ERR_INVALID_JSON);
    assert_int_equal(review_parse(content, sizeof content - 1, NULL, NULL, &r, &e), ERR_INVALID_JSON);
}

/* --- encoding ------------------------------------------------------------------- */

static void test_bad_encoding(void **state)
{
    static const char *const bad[] = {
        "\"\xff\"",
        "\"ok \xfe ok\"",
        "\"\xc0\xaf\"",                 /* overlong */
        "\"\xe0\x80\xaf\"",             /* overlong */
        "\"\xed\xa0\x80\"",             /* surrogate */
        "\"\xf4\x90\x80\x80\"",         /* above U+10FFFF */
        "\"abc\xe2\x82\"",              /* truncated */
        "\"\x80\"",                     /* lone continuation */
        "\"\\u0000\"",
        "\"int main(void) {\\u0000}\"",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err_with("file_content", bad[i], ERR_INVALID_ENCODING, "file_content");
}

/* A NUL escape is refused in any member, and the error names it. */
static void test_nul_escape_other_fields(void **state)
{
    (void)state;
    expect_err_with("language", "\"py\\u0000\"", ERR_INVALID_ENCODING, "language");
    expect_err_with("diff", "\"\\u0000\"", ERR_INVALID_ENCODING, "diff");
    expect_err_with("error_log", "\"x\\u0000\"", ERR_INVALID_ENCODING, "error_log");
    expect_err_with("request_type", "\"review\\u0000x\"", ERR_INVALID_ENCODING,
                    "request_type");
    expect_err_with("cursor_context", "{\"line\":1,\"x\":\"\\u0000\"}", ERR_INVALID_ENCODING,
                    "cursor_context");
    /* An escaped backslash followed by "u0000" is ordinary text. */
    {
        struct review_request r;
        parse_ok_with("file_content", "\"C:\\\\u0000\"", &r);
        assert_string_equal(r.file_content, "C:\\u0000");
        review_request_cleanup(&r);
    }
}

static void test_bad_encoding_other_fields(void **state)
{
    (void)state;
    expect_err_with("diff", "\"\xff\"", ERR_INVALID_ENCODING, "diff");
    expect_err_with("error_log", "\"\xed\xa0\x80\"", ERR_INVALID_ENCODING, "error_log");
    expect_err_with("repo_id", "\"\xc3\"", ERR_INVALID_ENCODING, "repo_id");
}

/* --- lengths and values --------------------------------------------------------- */

static void test_too_long(void **state)
{
    struct review_request r;
    char *s;
    (void)state;

    s = json_string_of(REVIEW_FILE_PATH_MAX + 1, 'p');
    expect_err_with("file_path", s, ERR_FIELD_TOO_LONG, "file_path");
    free(s);
    /* A segment longer than any file name can be. */
    s = json_string_of(RELPATH_NAME_MAX + 1, 'p');
    expect_err_with("file_path", s, ERR_INVALID_FILE_PATH, "file_path");
    free(s);
    s = json_string_of(RELPATH_NAME_MAX, 'p');
    parse_ok_with("file_path", s, &r);
    review_request_cleanup(&r);
    free(s);
    s = json_string_of(REVIEW_LANGUAGE_MAX + 1, 'l');
    expect_err_with("language", s, ERR_FIELD_TOO_LONG, "language");
    free(s);
    s = json_string_of(REVIEW_REPO_ID_MAX + 1, 'r');
    expect_err_with("repo_id", s, ERR_FIELD_TOO_LONG, "repo_id");
    free(s);
    s = json_string_of(REVIEW_ERROR_LOG_MAX + 1, 'e');
    expect_err_with("error_log", s, ERR_FIELD_TOO_LONG, "error_log");
    free(s);
    /* Bytes, not characters: 513 two-byte characters exceed 1024. */
    {
        size_t n = 513;
        char *p = malloc(2 * n + 3);
        assert_non_null(p);
        p[0] = '"';
        for (size_t i = 0; i < n; i++)
            memcpy(p + 1 + 2 * i, "\xc3\xa9", 2);
        p[2 * n + 1] = '"';
        p[2 * n + 2] = '\0';
        expect_err_with("file_path", p, ERR_FIELD_TOO_LONG, "file_path");
        free(p);
    }
}

static void test_bad_language(void **state)
{
    static const char *const bad[] = {"\"py thon\"", "\" python\"", "\"\"", "\"c/c++\"",
                                      "\"py;rm\"", "\"\\u00e9\"", "\"a\\tb\""};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err_with("language", bad[i], ERR_INVALID_FIELD_VALUE, "language");
}

/* --- cursor_context -------------------------------------------------------------- */

static void test_cursor_not_object(void **state)
{
    static const char *const bad[] = {"5", "\"3\"", "[3]", "true", "[]"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_err_with("cursor_context", bad[i], ERR_INVALID_FIELD_TYPE, "cursor_context");
}

static void test_cursor_values(void **state)
{
    (void)state;
    expect_err_with("cursor_context", "{\"line\":0}", ERR_INVALID_FIELD_VALUE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":-1}", ERR_INVALID_FIELD_VALUE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":10000001}", ERR_INVALID_FIELD_VALUE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":1e300}", ERR_INVALID_FIELD_VALUE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":5,\"end_line\":4}", ERR_INVALID_FIELD_VALUE,
                    "cursor_context.end_line");
    expect_err_with("cursor_context", "{\"line\":5,\"end_line\":0}", ERR_INVALID_FIELD_VALUE,
                    "cursor_context.end_line");
    expect_err_with("cursor_context", "{\"line\":1,\"end_line\":10000001}",
                    ERR_INVALID_FIELD_VALUE, "cursor_context.end_line");
}

static void test_cursor_types(void **state)
{
    (void)state;
    expect_err_with("cursor_context", "{\"line\":1.5}", ERR_INVALID_FIELD_TYPE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":\"3\"}", ERR_INVALID_FIELD_TYPE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":true}", ERR_INVALID_FIELD_TYPE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":[1]}", ERR_INVALID_FIELD_TYPE,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":2,\"end_line\":2.5}", ERR_INVALID_FIELD_TYPE,
                    "cursor_context.end_line");
    expect_err_with("cursor_context", "{\"line\":2,\"end_line\":\"9\"}",
                    ERR_INVALID_FIELD_TYPE, "cursor_context.end_line");
}

static void test_cursor_missing_line(void **state)
{
    (void)state;
    expect_err_with("cursor_context", "{}", ERR_MISSING_FIELD, "cursor_context.line");
    expect_err_with("cursor_context", "{\"end_line\":4}", ERR_MISSING_FIELD,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"line\":null}", ERR_MISSING_FIELD,
                    "cursor_context.line");
    expect_err_with("cursor_context", "{\"Line\":1}", ERR_MISSING_FIELD,
                    "cursor_context.line");
}

/* --- cleanup ---------------------------------------------------------------------- */

static void test_cleanup(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    memset(&r, 0, sizeof r);
    review_request_cleanup(&r);
    review_request_cleanup(&r);

    assert_int_equal(parse("{\"request_type\":\"review\",\"file_path\":\"a.py\","
                           "\"file_content\":\"c\"}", &r, &e),
                     ERR_OK);
    review_request_cleanup(&r);
    assert_null(r.doc);
    assert_null(r.file_path);
    review_request_cleanup(&r);     /* twice: no double free */

    /* After a failed parse the struct holds nothing to release. */
    assert_int_equal(parse("{\"request_type\":\"nope\",\"file_path\":\"a.py\","
                           "\"file_content\":\"c\"}", &r, &e),
                     ERR_INVALID_REQUEST_TYPE);
    review_request_cleanup(&r);
}

static void test_null_err_allowed(void **state)
{
    struct review_request r;
    (void)state;

    assert_int_equal(review_parse("[]", 2, NULL, NULL, &r, NULL), ERR_INVALID_JSON);
    assert_int_equal(review_parse("{}", 2, NULL, NULL, &r, NULL), ERR_MISSING_FIELD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_request_types),
        cmocka_unit_test(test_cursor_line_only),
        cmocka_unit_test(test_null_optionals),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_whitespace_around),
        cmocka_unit_test(test_accepted_values),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_raw_nul),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_type_error_before_missing),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_unknown_request_type),
        cmocka_unit_test(test_bad_file_path),
        cmocka_unit_test(test_raw_control_is_invalid_json),
        cmocka_unit_test(test_bad_encoding),
        cmocka_unit_test(test_nul_escape_other_fields),
        cmocka_unit_test(test_bad_encoding_other_fields),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_bad_language),
        cmocka_unit_test(test_cursor_not_object),
        cmocka_unit_test(test_cursor_values),
        cmocka_unit_test(test_cursor_types),
        cmocka_unit_test(test_cursor_missing_line),
        cmocka_unit_test(test_cleanup),
        cmocka_unit_test(test_null_err_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
