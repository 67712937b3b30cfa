/* test_export_rdjson.c - unit tests for gateway/export_rdjson.c: job views
 * in, reviewdog rdjson out, every value checked. (The schema itself is
 * checked end to end, tests/e2e/test_exports.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "gateway/export_rdjson.h"
#include "tests/unit/export_views.h"
#include "tests/unit/jsonassert.h"

static cJSON *rdjson_of(const char *view_json, const char *info_uri)
{
    cJSON *view = cJSON_Parse(view_json), *doc;

    assert_non_null(view);
    doc = export_rdjson(view, info_uri);
    cJSON_Delete(view);
    assert_non_null(doc);
    return doc;
}

/* Only the members reviewdog's protobuf JSON reader knows may appear. */
static void only_members(const cJSON *o, const char *const *allowed)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, o) {
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            ok |= strcmp(it->string, *a) == 0;
        if (!ok)
            print_error("unexpected member %s\n", it->string);
        assert_true(ok);
    }
}

static void test_review_document(void **state)
{
    static const char *const top[] = {"source", "severity", "diagnostics", NULL};
    static const char *const diag[] = {"message", "location", "severity", "source", "code",
                                       "suggestions", "original_output", NULL};
    cJSON *doc;
    const cJSON *d;
    (void)state;

    doc = rdjson_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"bin/run.sh\","
        "\"findings\":["
        "{\"line\":3,\"column\":6,\"severity\":\"minor\",\"category\":\"correctness\","
        " \"rule_id\":\"SC2086\",\"message\":\"Double quote to prevent globbing.\","
        " \"source\":\"lint:shellcheck\"},"
        "{\"id\":\"f9\",\"line\":5,\"end_line\":7,\"severity\":\"critical\",\"category\":\"security\","
        " \"rule_id\":\"model:security\",\"message\":\"Command injection.\",\"source\":\"model\","
        " \"confidence\":0.8},"
        "{\"line\":9,\"end_line\":11,\"column\":2,\"severity\":\"info\",\"rule_id\":\"SC2034x\","
        " \"message\":\"m\",\"source\":\"lint:shellcheck\"},"
        "{\"line\":12,\"severity\":\"major\",\"rule_id\":\"E1\",\"message\":\"n\"}]}",
        "https://ci.example.test/docs");

    only_members(doc, top);
    assert_string_equal(ja_str_at(doc, "source.name"), "Code Insight");
    assert_string_equal(ja_str_at(doc, "source.url"), "https://ci.example.test/docs");
    assert_int_equal(cJSON_GetArraySize(ja_at(doc, "diagnostics")), 4);
    cJSON_ArrayForEach(d, ja_at(doc, "diagnostics"))
        only_members(d, diag);

    assert_string_equal(ja_str_at(doc, "diagnostics.0.message"), "Double quote to prevent globbing.");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.location.path"), "bin/run.sh");
    assert_true(ja_num_at(doc, "diagnostics.0.location.range.start.line") == 3);
    assert_true(ja_num_at(doc, "diagnostics.0.location.range.start.column") == 6);
    assert_null(ja_at(doc, "diagnostics.0.location.range.end"));
    assert_string_equal(ja_str_at(doc, "diagnostics.0.severity"), "WARNING");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.source.name"), "lint:shellcheck");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.code.value"), "SC2086");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.code.url"),
                        "https://www.shellcheck.net/wiki/SC2086");
    assert_null(ja_at(doc, "diagnostics.0.suggestions"));

    /* A line range without columns: line-wise, end line included. */
    assert_string_equal(ja_str_at(doc, "diagnostics.1.severity"), "ERROR");
    assert_true(ja_num_at(doc, "diagnostics.1.location.range.start.line") == 5);
    assert_null(ja_at(doc, "diagnostics.1.location.range.start.column"));
    assert_true(ja_num_at(doc, "diagnostics.1.location.range.end.line") == 7);
    assert_null(ja_at(doc, "diagnostics.1.location.range.end.column"));
    assert_string_equal(ja_str_at(doc, "diagnostics.1.code.value"), "model:security");
    assert_null(ja_at(doc, "diagnostics.1.code.url"));

    /* A start column and an end line but no end column: start only (an end
     * without a column would cut the range at the end line's start). */
    assert_string_equal(ja_str_at(doc, "diagnostics.2.severity"), "INFO");
    assert_true(ja_num_at(doc, "diagnostics.2.location.range.start.column") == 2);
    assert_null(ja_at(doc, "diagnostics.2.location.range.end"));
    assert_null(ja_at(doc, "diagnostics.2.code.url"));  /* not a ShellCheck code */

    assert_string_equal(ja_str_at(doc, "diagnostics.3.severity"), "ERROR");
    assert_null(ja_at(doc, "diagnostics.3.source"));
    cJSON_Delete(doc);
}

static void test_failed_and_partial(void **state)
{
    cJSON *doc;
    (void)state;

    doc = rdjson_of("{\"type\":\"review\",\"status\":\"failed\",\"file_path\":\"a.py\","
                    "\"error\":\"boom\",\"findings\":[{\"line\":1,\"rule_id\":\"X\",\"message\":\"m\"}]}",
                    NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(doc, "diagnostics")), 0);
    assert_null(ja_at(doc, "source.url"));
    cJSON_Delete(doc);

    /* Odd findings are tolerated: no line, no range; no rule, "unknown". */
    doc = rdjson_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"a.py\","
                    "\"findings\":[{\"line\":0,\"message\":null}, \"x\"]}", "");
    assert_int_equal(cJSON_GetArraySize(ja_at(doc, "diagnostics")), 1);
    assert_null(ja_at(doc, "diagnostics.0.location.range"));
    assert_string_equal(ja_str_at(doc, "diagnostics.0.location.path"), "a.py");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.message"), "");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.code.value"), "unknown");
    assert_string_equal(ja_str_at(doc, "diagnostics.0.severity"), "INFO");
    assert_null(ja_at(doc, "source.url"));
    cJSON_Delete(doc);
}


/* A debug job's diagnosis is one more diagnostic, with the fix as
 * suggestions when it is for the frame's file. */
static void test_debug_diagnosis(void **state)
{
    cJSON *doc;
    (void)state;

    doc = rdjson_of(DEBUG_VIEW("{\"file\":\"app/util.py\",\"line\":2}", UTIL_FIX,
                               "{\"reproduced\":true,\"verified\":true}"), NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(doc, "diagnostics")), 2);
    assert_string_equal(ja_str_at(doc, "diagnostics.1.code.value"), "debug-doctor/root-cause");
    assert_string_equal(ja_str_at(doc, "diagnostics.1.location.path"), "app/util.py");
    assert_true(ja_num_at(doc, "diagnostics.1.location.range.start.line") == 2);
    assert_string_equal(ja_str_at(doc, "diagnostics.1.severity"), "ERROR");
    assert_string_equal(ja_str_at(doc, "diagnostics.1.suggestions.0.text"),
                        "    return a / b if b else 0.0");
    cJSON_Delete(doc);
}

static void test_suggestions(void **state)
{
    cJSON *doc;
    (void)state;

    /* Replacement, insertion, deletion (as reviewdog's diff parser writes them). */
    doc = rdjson_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"app.py\","
        "\"findings\":[{\"line\":3,\"severity\":\"major\",\"rule_id\":\"model:correctness\","
        "\"message\":\"m\",\"source\":\"model\",\"fix\":\"--- a/app.py\\n+++ b/app.py\\n"
        "@@ -2,4 +2,4 @@\\n l2\\n-l3\\n-l4\\n+L3\\n+L4\\n l5\\n@@ -6,2 +6,4 @@\\n l6\\n+n1\\n+n2\\n l7\\n"
        "@@ -9,3 +11,2 @@\\n l9\\n-l10\\n l11\\n\"},"
        "{\"line\":4,\"severity\":\"minor\",\"rule_id\":\"x\",\"message\":\"m\",\"fix\":\"junk\"}]}",
        NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(doc, "diagnostics.0.suggestions")), 3);
    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.0.range.start.line") == 3);
    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.0.range.end.line") == 4);
    assert_null(ja_at(doc, "diagnostics.0.suggestions.0.range.start.column"));
    assert_null(ja_at(doc, "diagnostics.0.suggestions.0.range.end.column"));
    assert_string_equal(ja_str_at(doc, "diagnostics.0.suggestions.0.text"), "L3\nL4");

    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.1.range.start.line") == 7);
    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.1.range.start.column") == 1);
    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.1.range.end.line") == 7);
    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.1.range.end.column") == 1);
    assert_string_equal(ja_str_at(doc, "diagnostics.0.suggestions.1.text"), "n1\nn2\n");

    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.2.range.start.line") == 10);
    assert_true(ja_num_at(doc, "diagnostics.0.suggestions.2.range.end.line") == 10);
    assert_string_equal(ja_str_at(doc, "diagnostics.0.suggestions.2.text"), "");

    assert_null(ja_at(doc, "diagnostics.1.suggestions"));
    cJSON_Delete(doc);
}

/* A line replaced by one empty line is not a deletion. Written line-wise
 * without its final newline, both are the text "" on the same range, which
 * reviewdog (and tests/e2e/test_exports.py's apply_rdjson) reads as "remove
 * the lines": the suggestion would delete "import os" where the fix blanks
 * it. */
static void test_blank_line_is_not_a_deletion(void **state)
{
    cJSON *blank, *del;
    char *a, *b;
    (void)state;

    blank = rdjson_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"app.py\","
        "\"findings\":[{\"line\":2,\"severity\":\"major\",\"rule_id\":\"model:correctness\","
        "\"message\":\"m\",\"source\":\"model\",\"fix\":\"--- a/app.py\\n+++ b/app.py\\n"
        "@@ -1,3 +1,3 @@\\n l1\\n-import os\\n+\\n l3\\n\"}]}", NULL);
    del = rdjson_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"app.py\","
        "\"findings\":[{\"line\":2,\"severity\":\"major\",\"rule_id\":\"model:correctness\","
        "\"message\":\"m\",\"source\":\"model\",\"fix\":\"--- a/app.py\\n+++ b/app.py\\n"
        "@@ -1,3 +1,2 @@\\n l1\\n-import os\\n l3\\n\"}]}", NULL);
    assert_non_null(ja_at(blank, "diagnostics.0.suggestions.0"));
    assert_non_null(ja_at(del, "diagnostics.0.suggestions.0"));
    a = cJSON_PrintUnformatted(ja_at(blank, "diagnostics.0.suggestions"));
    b = cJSON_PrintUnformatted(ja_at(del, "diagnostics.0.suggestions"));
    assert_non_null(a);
    assert_non_null(b);
    if (strcmp(a, b) == 0)
        fail_msg("blanking line 2 and deleting it give the same suggestions: %s", a);
    /* The blank line by columns: line 2 whole, newline included. */
    assert_string_equal(a, "[{\"range\":{\"start\":{\"line\":2,\"column\":1},"
                           "\"end\":{\"line\":3,\"column\":1}},\"text\":\"\\n\"}]");
    assert_string_equal(b, "[{\"range\":{\"start\":{\"line\":2},\"end\":{\"line\":2}},"
                           "\"text\":\"\"}]");
    free(a);
    free(b);
    cJSON_Delete(blank);
    cJSON_Delete(del);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_document),
        cmocka_unit_test(test_failed_and_partial),
        cmocka_unit_test(test_suggestions),
        cmocka_unit_test(test_debug_diagnosis),
        cmocka_unit_test(test_blank_line_is_not_a_deletion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
