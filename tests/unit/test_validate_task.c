/* test_validate_task.c - review_parse for the heavy tasks: Debug Doctor
 * inputs (error_log / run / files) and the architecture generator's.
 * Each error case asserts the exact code and field; accepted inputs assert
 * the canonical JSON put on the queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"
#include "common/target_policy.h"
#include "gateway/validate.h"

#define DEBUG_HEAD "{\"request_type\":\"debug\",\"file_path\":\"app/main.py\"," \
                   "\"file_content\":\"print(1/0)\\n\""

static int parse(const char *body, struct review_request *r, struct err *e)
{
    size_t len = strlen(body);
    char *copy = malloc(len);
    int rc;

    assert_non_null(copy);
    memcpy(copy, body, len);        /* no NUL: ASan catches a read past len */
    err_clear(e);
    rc = review_parse(copy, len, NULL, NULL, r, e);
    free(copy);
    return rc;
}

static void expect_err(const char *body, enum err_code code, const char *field)
{
    struct review_request r;
    struct err e;
    int rc = parse(body, &r, &e);

    if (rc != (int)code || strcmp(e.field, field) != 0)
        print_error("body %.300s: got %s field \"%s\" (%s), want %s field \"%s\"\n", body,
                    err_code_str((enum err_code)rc), e.field, e.msg, err_code_str(code), field);
    assert_int_equal(rc, code);
    assert_string_equal(e.field, field);
    assert_true(e.http_status >= 400 && e.http_status < 500);
    review_request_cleanup(&r);
}

static void expect_ok(const char *body, struct review_request *r)
{
    struct err e;
    int rc = parse(body, r, &e);

    if (rc != ERR_OK)
        print_error("body %.300s: %s field \"%s\" (%s)\n", body,
                    err_code_str((enum err_code)rc), e.field, e.msg);
    assert_int_equal(rc, ERR_OK);
}

/* --- debug ---------------------------------------------------------------- */

static void test_debug_log_only(void **state)
{
    struct review_request r;
    (void)state;

    expect_ok(DEBUG_HEAD ",\"error_log\":\"ZeroDivisionError: division by zero\"}", &r);
    assert_int_equal(r.type, JOB_DEBUG);
    assert_null(r.run);
    assert_null(r.files);
    assert_int_equal(r.input_bytes, strlen("print(1/0)\n") +
                                    strlen("ZeroDivisionError: division by zero"));
    review_request_cleanup(&r);
}

static void test_debug_run_defaults(void **state)
{
    struct review_request r;
    (void)state;

    /* python: the entry defaults to file_path; args default to []. */
    expect_ok(DEBUG_HEAD ",\"run\":{\"runner\":\"python\"}}", &r);
    assert_string_equal(r.run, "{\"runner\":\"python\",\"entry\":\"app/main.py\",\"args\":[]}");
    review_request_cleanup(&r);
    /* cc and pytest need no entry: they take every file. cc needs a .c one. */
    expect_ok(DEBUG_HEAD ",\"files\":[{\"path\":\"m.c\",\"content\":\"\"}],"
              "\"run\":{\"runner\":\"cc\",\"args\":[\"-v\",\"x y\"]}}", &r);
    assert_string_equal(r.run, "{\"runner\":\"cc\",\"args\":[\"-v\",\"x y\"]}");
    review_request_cleanup(&r);
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"cc\"}}", ERR_INVALID_FIELD_VALUE,
               "run.runner");
    expect_err(DEBUG_HEAD ",\"files\":[{\"path\":\"m.cc\",\"content\":\"\"}],"
               "\"run\":{\"runner\":\"cc\"}}", ERR_INVALID_FIELD_VALUE, "run.runner");
}

static void test_debug_files(void **state)
{
    struct review_request r;
    (void)state;

    expect_ok(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"app/util.py\","
              "\"content\":\"def f(): pass\\n\",\"extra\":1}],"
              "\"run\":{\"runner\":\"python\",\"entry\":\"app/util.py\"}}", &r);
    assert_string_equal(r.files, "[{\"path\":\"app/util.py\",\"content\":\"def f(): pass\\n\"}]");
    assert_string_equal(r.run, "{\"runner\":\"python\",\"entry\":\"app/util.py\",\"args\":[]}");
    assert_int_equal(r.input_bytes, strlen("print(1/0)\n") + 1 + strlen("def f(): pass\n"));
    review_request_cleanup(&r);
}

/* Paths name files of one tree, as the sandbox lays them out: one
 * spelling each, no two the same, none a directory of another. */
static void test_debug_paths_in_one_tree(void **state)
{
    struct review_request r;
    (void)state;

    expect_ok("{\"request_type\":\"debug\",\"file_path\":\"./app//main.py\","
              "\"file_content\":\"x\",\"error_log\":\"E\",\"files\":[{\"path\":"
              "\"app/./util.py\",\"content\":\"y\"}],\"run\":{\"runner\":\"python\","
              "\"entry\":\"./app/util.py\"}}", &r);
    assert_string_equal(r.file_path, "app/main.py");
    assert_string_equal(r.files, "[{\"path\":\"app/util.py\",\"content\":\"y\"}]");
    assert_string_equal(r.run, "{\"runner\":\"python\",\"entry\":\"app/util.py\","
                               "\"args\":[]}");
    review_request_cleanup(&r);
    /* The same file twice, spelt two ways. */
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"./app/main.py\","
               "\"content\":\"\"}]}", ERR_INVALID_FIELD_VALUE, "files[0].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"b.py\",\"content\":"
               "\"\"},{\"path\":\"b.py/\",\"content\":\"\"}]}", ERR_INVALID_FILE_PATH,
               "files[1].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"b.py\",\"content\":"
               "\"\"},{\"path\":\"x//b.py\",\"content\":\"\"},{\"path\":\"./b.py\","
               "\"content\":\"\"}]}", ERR_INVALID_FIELD_VALUE, "files[2].path");
    /* A file that would be the directory of another. */
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"app/main.py/x.py\","
               "\"content\":\"\"}]}", ERR_INVALID_FIELD_VALUE, "files[0].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"app\","
               "\"content\":\"\"}]}", ERR_INVALID_FIELD_VALUE, "files[0].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"lib/a.py\","
               "\"content\":\"\"},{\"path\":\"lib\",\"content\":\"\"}]}",
               ERR_INVALID_FIELD_VALUE, "files[1].path");
    /* Prefixes that are not directories are fine. */
    expect_ok(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"app/main.pyc\","
              "\"content\":\"\"},{\"path\":\"ap\",\"content\":\"\"}]}", &r);
    review_request_cleanup(&r);
}

static void test_debug_needs_log_or_run(void **state)
{
    (void)state;
    expect_err(DEBUG_HEAD "}", ERR_MISSING_FIELD, "error_log");
    expect_err(DEBUG_HEAD ",\"error_log\":null,\"run\":null}", ERR_MISSING_FIELD, "error_log");
    expect_err("{\"request_type\":\"debug\",\"error_log\":\"E\",\"file_content\":\"x\"}",
               ERR_MISSING_FIELD, "file_path");
}

static void test_debug_bad_run(void **state)
{
    (void)state;
    expect_err(DEBUG_HEAD ",\"run\":\"python main.py\"}", ERR_INVALID_FIELD_TYPE, "run");
    expect_err(DEBUG_HEAD ",\"run\":{}}", ERR_MISSING_FIELD, "run.runner");
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":7}}", ERR_INVALID_FIELD_TYPE, "run.runner");
    /* Never a shell string, never an unlisted program. */
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"sh -c 'rm -rf /'\"}}", ERR_INVALID_FIELD_VALUE,
               "run.runner");
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"/usr/bin/python3\"}}",
               ERR_INVALID_FIELD_VALUE, "run.runner");
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"python\",\"entry\":\"other.py\"}}",
               ERR_INVALID_FIELD_VALUE, "run.entry");
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"python\",\"entry\":[]}}",
               ERR_INVALID_FIELD_TYPE, "run.entry");
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"python\",\"args\":\"-x\"}}",
               ERR_INVALID_FIELD_TYPE, "run.args");
    expect_err(DEBUG_HEAD ",\"run\":{\"runner\":\"python\",\"args\":[\"a\",3]}}",
               ERR_INVALID_FIELD_TYPE, "run.args[1]");
}

static void test_debug_run_arg_limits(void **state)
{
    char body[4096];
    size_t n;
    (void)state;

    n = (size_t)snprintf(body, sizeof body, DEBUG_HEAD ",\"run\":{\"runner\":\"sh\",\"args\":[");
    for (int i = 0; i <= DEBUG_RUN_ARGS_MAX; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\"a\"", i ? "," : "");
    snprintf(body + n, sizeof body - n, "]}}");
    expect_err(body, ERR_INVALID_FIELD_VALUE, "run.args");

    n = (size_t)snprintf(body, sizeof body, DEBUG_HEAD ",\"run\":{\"runner\":\"sh\",\"args\":[\"");
    memset(body + n, 'x', DEBUG_RUN_ARG_MAX + 1);
    n += DEBUG_RUN_ARG_MAX + 1;
    snprintf(body + n, sizeof body - n, "\"]}}");
    expect_err(body, ERR_FIELD_TOO_LONG, "run.args[0]");
}

static void test_debug_bad_files(void **state)
{
    (void)state;
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":{}}", ERR_INVALID_FIELD_TYPE, "files");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[\"a.py\"]}", ERR_INVALID_FIELD_TYPE,
               "files[0]");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"content\":\"x\"}]}",
               ERR_MISSING_FIELD, "files[0].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"a.py\"}]}",
               ERR_MISSING_FIELD, "files[0].content");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"../etc/passwd\","
               "\"content\":\"x\"}]}", ERR_INVALID_FILE_PATH, "files[0].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"/abs.py\","
               "\"content\":\"x\"}]}", ERR_INVALID_FILE_PATH, "files[0].path");
    /* The main file's path, or one path twice. */
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"app/main.py\","
               "\"content\":\"x\"}]}", ERR_INVALID_FIELD_VALUE, "files[0].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"b.py\",\"content\":\"x\"},"
               "{\"path\":\"b.py\",\"content\":\"y\"}]}", ERR_INVALID_FIELD_VALUE,
               "files[1].path");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"b.py\","
               "\"content\":\"\xff\"}]}", ERR_INVALID_ENCODING, "files[0].content");
    expect_err(DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[{\"path\":\"b.py\","
               "\"content\":\"a\\u0000b\"}]}", ERR_INVALID_ENCODING, "files");
}

static void test_debug_files_caps(void **state)
{
    size_t cap = DEBUG_FILES_TOTAL_MAX + 4096, n;
    char *body = malloc(cap);
    (void)state;

    assert_non_null(body);
    n = (size_t)snprintf(body, cap, DEBUG_HEAD ",\"error_log\":\"E\",\"files\":[");
    for (int i = 0; i <= DEBUG_FILES_MAX; i++)
        n += (size_t)snprintf(body + n, cap - n, "%s{\"path\":\"f%d.py\",\"content\":\"\"}",
                              i ? "," : "", i);
    snprintf(body + n, cap - n, "]}");
    expect_err(body, ERR_INVALID_FIELD_VALUE, "files");

    /* Two files that together pass the total by one byte. */
    n = (size_t)snprintf(body, cap, DEBUG_HEAD ",\"error_log\":\"E\",\"files\":["
                         "{\"path\":\"a.py\",\"content\":\"");
    memset(body + n, 'a', DEBUG_FILES_TOTAL_MAX / 2);
    n += DEBUG_FILES_TOTAL_MAX / 2;
    n += (size_t)snprintf(body + n, cap - n, "\"},{\"path\":\"b.py\",\"content\":\"");
    memset(body + n, 'b', DEBUG_FILES_TOTAL_MAX / 2 + 1);
    n += DEBUG_FILES_TOTAL_MAX / 2 + 1;
    snprintf(body + n, cap - n, "\"}]}");
    expect_err(body, ERR_FIELD_TOO_LONG, "files");
    free(body);
}

/* --- architecture ------------------------------------------------------------ */

static void test_arch_ok(void **state)
{
    struct review_request r;
    (void)state;

    expect_ok("{\"request_type\":\"architecture\",\"user_request\":\"A URL shortener\","
              "\"stack\":\"C, PostgreSQL\",\"scale\":\"10k rps\",\"db\":\"postgres\","
              "\"file_tree\":\"src/\\n  main.c\\n\"}", &r);
    assert_int_equal(r.type, JOB_ARCHITECTURE);
    assert_null(r.file_path);
    assert_string_equal(r.spec, "{\"user_request\":\"A URL shortener\",\"stack\":\"C, "
                        "PostgreSQL\",\"scale\":\"10k rps\",\"db\":\"postgres\","
                        "\"file_tree\":\"src/\\n  main.c\\n\"}");
    assert_int_equal(r.input_bytes, strlen("A URL shortener") + strlen("C, PostgreSQL") +
                                    strlen("10k rps") + strlen("postgres") +
                                    strlen("src/\n  main.c\n"));
    review_request_cleanup(&r);
    /* Optional parts may be absent or null. */
    expect_ok("{\"request_type\":\"architecture\",\"user_request\":\"x\",\"db\":null}", &r);
    assert_string_equal(r.spec, "{\"user_request\":\"x\"}");
    review_request_cleanup(&r);
}

static void test_arch_bad(void **state)
{
    char body[ARCH_USER_REQUEST_MAX + 200];
    size_t n;
    (void)state;

    expect_err("{\"request_type\":\"architecture\"}", ERR_MISSING_FIELD, "user_request");
    expect_err("{\"request_type\":\"architecture\",\"user_request\":\"  \\n\"}",
               ERR_MISSING_FIELD, "user_request");
    expect_err("{\"request_type\":\"architecture\",\"user_request\":[\"x\"]}",
               ERR_INVALID_FIELD_TYPE, "user_request");
    expect_err("{\"request_type\":\"architecture\",\"user_request\":\"x\",\"stack\":1}",
               ERR_INVALID_FIELD_TYPE, "stack");
    n = (size_t)snprintf(body, sizeof body, "{\"request_type\":\"architecture\","
                         "\"user_request\":\"");
    memset(body + n, 'u', ARCH_USER_REQUEST_MAX + 1);
    n += ARCH_USER_REQUEST_MAX + 1;
    snprintf(body + n, sizeof body - n, "\"}");
    expect_err(body, ERR_FIELD_TOO_LONG, "user_request");
    n = (size_t)snprintf(body, sizeof body, "{\"request_type\":\"architecture\","
                         "\"user_request\":\"x\",\"scale\":\"");
    memset(body + n, 's', ARCH_FIELD_MAX + 1);
    n += ARCH_FIELD_MAX + 1;
    snprintf(body + n, sizeof body - n, "\"}");
    expect_err(body, ERR_FIELD_TOO_LONG, "scale");
}

/* --- stress ------------------------------------------------------------------ */

#define STRESS_BODY "{\"request_type\":\"stress\",\"base_url\":\"%s\",\"requests\":" \
                    "[{\"method\":\"GET\",\"path\":\"/items\",\"weight\":3}],\"rate\":20," \
                    "\"duration_s\":2}"

static int parse_stress(const char *allow, const char *url, struct review_request *r,
                        struct err *e)
{
    struct config cfg;
    struct target_policy *p;
    char body[512];
    int rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.stress_max_rps = 200;
    cfg.stress_max_concurrency = 50;
    cfg.stress_max_duration_s = 60;
    cfg.stress_max_requests = 10000;
    assert_int_equal(target_policy_new(allow, &p, e), ERR_OK);
    snprintf(body, sizeof body, STRESS_BODY, url);
    err_clear(e);
    rc = review_parse(body, strlen(body), &cfg, p, r, e);
    target_policy_free(p);
    return rc;
}

static void test_stress_ok(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    assert_int_equal(parse_stress("127.0.0.1", "http://127.0.0.1:8081", &r, &e), ERR_OK);
    assert_int_equal(r.type, JOB_STRESS);
    assert_null(r.file_path);
    /* Canonical: a weight filled in; concurrency and max_requests, not
     * given, are left to the worker's caps (common/stress_spec.h). */
    assert_non_null(strstr(r.spec, "\"base_url\":\"http://127.0.0.1:8081\""));
    assert_null(strstr(r.spec, "\"concurrency\""));
    assert_null(strstr(r.spec, "\"max_requests\""));
    assert_non_null(strstr(r.spec, "\"weight\":3"));
    review_request_cleanup(&r);
}

static void test_stress_refused(void **state)
{
    struct review_request r;
    struct err e;
    (void)state;

    /* Off until an operator lists hosts. */
    assert_int_equal(parse_stress("", "http://127.0.0.1:8081", &r, &e), ERR_FEATURE_DISABLED);
    assert_int_equal(e.http_status, 403);
    /* Not on the list: refused at submission, naming the host, not queued. */
    assert_int_equal(parse_stress("127.0.0.1", "http://example.com/", &r, &e),
                     ERR_TARGET_NOT_ALLOWED);
    assert_string_equal(e.field, "base_url");
    assert_int_equal(e.http_status, 422);
    assert_non_null(strstr(e.msg, "example.com"));
    assert_int_equal(parse_stress("api.example.com", "http://169.254.169.254/", &r, &e),
                     ERR_TARGET_NOT_ALLOWED);
    assert_int_equal(parse_stress("127.0.0.1", "ftp://127.0.0.1/", &r, &e),
                     ERR_INVALID_FIELD_VALUE);
    assert_int_equal(parse_stress("127.0.0.1", "http://user:pw@127.0.0.1/", &r, &e),
                     ERR_INVALID_FIELD_VALUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debug_log_only),
        cmocka_unit_test(test_debug_run_defaults),
        cmocka_unit_test(test_debug_files),
        cmocka_unit_test(test_debug_paths_in_one_tree),
        cmocka_unit_test(test_debug_needs_log_or_run),
        cmocka_unit_test(test_debug_bad_run),
        cmocka_unit_test(test_debug_run_arg_limits),
        cmocka_unit_test(test_debug_bad_files),
        cmocka_unit_test(test_debug_files_caps),
        cmocka_unit_test(test_arch_ok),
        cmocka_unit_test(test_arch_bad),
        cmocka_unit_test(test_stress_ok),
        cmocka_unit_test(test_stress_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
