/* test_fix_request.c - unit tests for gateway/fix_request.c
 * (fix_request_parse: the POST /apply-fix body).
 *
 * Every body is copied into a heap buffer of exactly its length, without a
 * terminating NUL, so ASan catches a read past len. Each error case asserts
 * the exact code and field.
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
#include "tests/unit/fixture.h"
#include "gateway/fix_request.h"

#define JOB "\"0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69\""
#define SHA "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""

static int parse_n(const char *body, size_t len, struct fix_request *r, struct err *e)
{
    char *copy = fixture_exact_copy(body, len);
    int rc;

    err_clear(e);
    rc = fix_request_parse(copy, len, r, e);
    free(copy);
    return rc;
}

static void expect_err(const char *body, enum err_code code, const char *field)
{
    struct fix_request r;
    struct err e;
    int rc;

    memset(&r, 0x5a, sizeof r);
    rc = parse_n(body, strlen(body), &r, &e);
    if (rc != (int)code || strcmp(e.field, field) != 0)
        print_error("body %s: got %s field \"%s\" (%s), want %s field \"%s\"\n", body,
                    err_code_str((enum err_code)rc), e.field, e.msg, err_code_str(code), field);
    assert_int_equal(rc, code);
    assert_int_equal(e.code, code);
    assert_string_equal(e.field, field);
    assert_int_equal(e.http_status, err_http_status(code));
    assert_true(e.msg[0] != '\0');
    /* Nothing half-filled is left behind. */
    assert_string_equal(r.job_id, "");
    assert_string_equal(r.finding_id, "");
    assert_string_equal(r.base_sha256, "");
}

/* The valid body with member name's raw JSON value replaced (omitted when
 * raw is NULL; added when name is not one of the four). Owns. */
static char *body_with(const char *name, const char *raw)
{
    static const char *const names[] = {"job_id", "finding_id", "base_sha256", "approve"};
    const char *vals[] = {JOB, "\"f2\"", SHA, "true"};
    char *out = malloc(1024);
    size_t used = 0;
    int known = 0;

    assert_non_null(out);
    used += (size_t)snprintf(out, 1024, "{");
    for (int i = 0; i < 4; i++) {
        const char *v = vals[i];
        if (strcmp(names[i], name) == 0) {
            known = 1;
            v = raw;
        }
        if (v != NULL)
            used += (size_t)snprintf(out + used, 1024 - used, "%s\"%s\":%s", used > 1 ? "," : "",
                                     names[i], v);
    }
    if (!known && raw != NULL)
        used += (size_t)snprintf(out + used, 1024 - used, ",\"%s\":%s", name, raw);
    snprintf(out + used, 1024 - used, "}");
    assert_true(used < 1000);
    return out;
}

static void expect_err_with(const char *name, const char *raw, enum err_code code,
                            const char *field)
{
    char *body = body_with(name, raw);
    expect_err(body, code, field);
    free(body);
}

static void test_valid(void **state)
{
    struct fix_request r;
    struct err e;
    char *body = body_with("job_id", "\"0193C0DE-5B1F-7CC2-9A4E-1F2D3C4B5A69\"");
    const char *lit;
    (void)state;

    assert_int_equal(parse_n(body, strlen(body), &r, &e), ERR_OK);
    free(body);
    assert_string_equal(r.job_id, "0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69");
    assert_string_equal(r.finding_id, "f2");
    assert_string_equal(r.base_sha256,
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");

    /* A debug job's own fix, and white space around the object. */
    body = body_with("finding_id", "\"fix\"");
    assert_int_equal(parse_n(body, strlen(body), &r, &e), ERR_OK);
    assert_string_equal(r.finding_id, "fix");
    free(body);
    lit = " {\"approve\":true,\"base_sha256\":" SHA ",\"finding_id\":\"f123456\","
          "\"job_id\":" JOB "}\n";
    assert_int_equal(parse_n(lit, strlen(lit), &r, &e), ERR_OK);
    assert_string_equal(r.finding_id, "f123456");
}

static void test_not_json(void **state)
{
    (void)state;
    expect_err("", ERR_INVALID_JSON, "");
    expect_err("[]", ERR_INVALID_JSON, "");
    expect_err("\"x\"", ERR_INVALID_JSON, "");
    expect_err("{\"job_id\":", ERR_INVALID_JSON, "");
    expect_err("{} {}", ERR_INVALID_JSON, "");
    expect_err("{\"finding_id\":\"f\x01\"}", ERR_INVALID_JSON, "");
}

static void test_raw_nul(void **state)
{
    struct fix_request r;
    struct err e;
    static const char body[] = "{\"job_id\":\"a\0b\"}";
    (void)state;

    assert_int_equal(parse_n(body, sizeof body - 1, &r, &e), ERR_INVALID_JSON);
}

static void test_nul_escape(void **state)
{
    (void)state;
    expect_err_with("finding_id", "\"f1\\u0000x\"", ERR_INVALID_ENCODING, "finding_id");
    /* Bytes that are not UTF-8 are refused as such, before the value checks. */
    expect_err_with("finding_id", "\"f1\xff\"", ERR_INVALID_ENCODING, "finding_id");
}

static void test_unknown_members(void **state)
{
    char name[200], raw[260];
    (void)state;

    /* A typo of approve is named, not taken for a missing approval. */
    expect_err_with("aprove", "true", ERR_UNKNOWN_FIELD, "aprove");
    expect_err_with("file_content", "\"x\"", ERR_UNKNOWN_FIELD, "file_content");
    expect_err_with("Approve", "true", ERR_UNKNOWN_FIELD, "Approve");
    /* A long name is cut at a character boundary in the error. */
    memset(name, 'n', 60);
    memcpy(name + 47, "\xc3\xa9\xc3\xa9", 4);
    name[60] = '\0';
    snprintf(raw, sizeof raw, "{\"%s\":1,\"approve\":true}", name);
    name[47] = '\0';
    expect_err(raw, ERR_UNKNOWN_FIELD, name);
    /* A name that is not UTF-8 is not echoed. */
    expect_err("{\"a\xff\":1}", ERR_INVALID_ENCODING, "");
}

static void test_missing(void **state)
{
    (void)state;
    expect_err_with("job_id", NULL, ERR_MISSING_FIELD, "job_id");
    expect_err_with("job_id", "null", ERR_MISSING_FIELD, "job_id");
    expect_err_with("finding_id", NULL, ERR_MISSING_FIELD, "finding_id");
    expect_err_with("base_sha256", NULL, ERR_MISSING_FIELD, "base_sha256");
    expect_err("{}", ERR_MISSING_FIELD, "job_id");
}

static void test_types(void **state)
{
    (void)state;
    expect_err_with("job_id", "5", ERR_INVALID_FIELD_TYPE, "job_id");
    expect_err_with("finding_id", "2", ERR_INVALID_FIELD_TYPE, "finding_id");
    expect_err_with("finding_id", "[\"f2\"]", ERR_INVALID_FIELD_TYPE, "finding_id");
    expect_err_with("base_sha256", "{}", ERR_INVALID_FIELD_TYPE, "base_sha256");
    expect_err_with("base_sha256", "true", ERR_INVALID_FIELD_TYPE, "base_sha256");
}

static void test_lengths(void **state)
{
    (void)state;
    expect_err_with("job_id", "\"0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a690\"", ERR_FIELD_TOO_LONG,
                    "job_id");
    expect_err_with("finding_id", "\"f1234567\"", ERR_FIELD_TOO_LONG, "finding_id");
    expect_err_with("base_sha256",
                    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a080\"",
                    ERR_FIELD_TOO_LONG, "base_sha256");
}

static void test_shapes(void **state)
{
    static const char *const bad_ids[] = {"\"\"", "\"f\"", "\"f0\"", "\"f01\"", "\"F1\"",
                                          "\"1\"", "\"f1a\"", "\"f-1\"", "\"fix \"", "\"x\""};
    (void)state;
    expect_err_with("job_id", "\"not-a-uuid\"", ERR_INVALID_FIELD_VALUE, "job_id");
    expect_err_with("job_id", "\"\"", ERR_INVALID_FIELD_VALUE, "job_id");
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        expect_err_with("finding_id", bad_ids[i], ERR_INVALID_FIELD_VALUE, "finding_id");
    /* Upper-case hex, one digit short, a non-hex letter. */
    expect_err_with("base_sha256",
                    "\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"",
                    ERR_INVALID_FIELD_VALUE, "base_sha256");
    expect_err_with("base_sha256",
                    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0\"",
                    ERR_INVALID_FIELD_VALUE, "base_sha256");
    expect_err_with("base_sha256",
                    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\"",
                    ERR_INVALID_FIELD_VALUE, "base_sha256");
}

static void test_approval(void **state)
{
    static const char *const not_true[] = {NULL, "false", "null", "\"true\"", "1", "{}",
                                           "[true]"};
    (void)state;
    for (size_t i = 0; i < sizeof not_true / sizeof not_true[0]; i++)
        expect_err_with("approve", not_true[i], ERR_APPROVAL_REQUIRED, "approve");
    /* The request's own shape is reported before the approval. */
    expect_err("{\"job_id\":\"x\",\"finding_id\":\"f1\",\"base_sha256\":" SHA "}",
               ERR_INVALID_FIELD_VALUE, "job_id");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_raw_nul),
        cmocka_unit_test(test_nul_escape),
        cmocka_unit_test(test_unknown_members),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_approval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
