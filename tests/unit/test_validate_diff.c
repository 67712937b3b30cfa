/* test_validate_diff.c - review_parse's `diff` and `filter`
 * (gateway/validate_diff.c): the section kept, the filter chosen, and each
 * refusal's exact code and field. Bodies are built with cJSON so the diffs
 * read as diffs.
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
#include "common/json.h"
#include "gateway/validate.h"
#include "gateway/validate_diff.h"

/* The submitted file (new side) and a diff of it from an older version. */
static const char FILE_TEXT[] = "import os\n"
                                "\n"
                                "def f(x):\n"
                                "    return x * 2\n"
                                "\n"
                                "def g(y):\n"
                                "    return y + 1\n";
static const char DIFF_APP[] = "diff --git a/src/app.py b/src/app.py\n"
                               "index 1111111..2222222 100644\n"
                               "--- a/src/app.py\n"
                               "+++ b/src/app.py\n"
                               "@@ -2,3 +2,3 @@ import os\n"
                               " \n"
                               " def f(x):\n"
                               "-    return x\n"
                               "+    return x * 2\n";
static const char DIFF_OTHER[] = "diff --git a/src/other.py b/src/other.py\n"
                                 "--- a/src/other.py\n"
                                 "+++ b/src/other.py\n"
                                 "@@ -1 +1 @@\n"
                                 "-a\n"
                                 "+b\n";

/* A request body (owns; free) with the given members; NULL ones left out. */
static char *body(const char *type, const char *content, const char *diff, const char *filter)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    assert_non_null(o);
    cJSON_AddStringToObject(o, "request_type", type);
    cJSON_AddStringToObject(o, "file_path", "src/app.py");
    cJSON_AddStringToObject(o, "file_content", content);
    if (type[0] == 'd')
        cJSON_AddStringToObject(o, "error_log", "Traceback");
    if (diff != NULL)
        cJSON_AddStringToObject(o, "diff", diff);
    if (filter != NULL)
        cJSON_AddStringToObject(o, "filter", filter);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    assert_non_null(s);
    return s;
}

static int parse(const char *b, struct review_request *r, struct err *e)
{
    err_clear(e);
    return review_parse(b, strlen(b), NULL, NULL, r, e);
}

/* Asserts the request is accepted with r.diff == want_diff, r.filter == want_filter. */
static void accepts(const char *type, const char *content, const char *diff, const char *filter,
                    const char *want_diff, const char *want_filter)
{
    char *b = body(type, content, diff, filter);
    struct review_request r;
    struct err e;

    if (parse(b, &r, &e) != ERR_OK)
        fail_msg("refused: %s (%s)", err_code_str(e.code), e.msg);
    if (want_diff == NULL)
        assert_null(r.diff);
    else
        assert_string_equal(r.diff, want_diff);
    if (want_filter == NULL)
        assert_null(r.filter);
    else
        assert_string_equal(r.filter, want_filter);
    assert_int_equal(r.input_bytes, strlen(content) + (want_diff ? strlen(want_diff) : 0) +
                                        (type[0] == 'd' ? strlen("Traceback") : 0));
    review_request_cleanup(&r);
    free(b);
}

/* Asserts the exact code and field, and that the message holds want. */
static void refuses(const char *type, const char *content, const char *diff, const char *filter,
                    enum err_code code, const char *field, const char *want)
{
    char *b = body(type, content, diff, filter);
    struct review_request r;
    struct err e;
    int rc = parse(b, &r, &e);

    if (rc != (int)code || strcmp(e.field, field) != 0 || strstr(e.msg, want) == NULL)
        fail_msg("got %s field \"%s\" (%s), want %s field \"%s\" (%s)",
                 err_code_str((enum err_code)rc), e.field, e.msg, err_code_str(code), field,
                 want);
    assert_int_equal(e.http_status, err_http_status(code));
    assert_null(r.doc);
    free(b);
}

static void test_default_filter(void **state)
{
    (void)state;
    accepts("review", FILE_TEXT, DIFF_APP, NULL, DIFF_APP, "added");
    accepts("review", FILE_TEXT, NULL, NULL, NULL, NULL);
    /* Debug takes a diff as context and filters nothing. */
    accepts("debug", FILE_TEXT, DIFF_APP, NULL, DIFF_APP, NULL);
}

static void test_every_filter(void **state)
{
    static const char *const filters[] = {"added", "diff_context", "file", "nofilter"};

    (void)state;
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        accepts("review", FILE_TEXT, DIFF_APP, filters[i], DIFF_APP, filters[i]);
}

/* A multi-file diff gives the file's section alone, wherever it sits; a
 * preamble (git show) is not kept. */
static void test_section_picked(void **state)
{
    char both[1024], shown[1024];

    (void)state;
    snprintf(both, sizeof both, "%s%s", DIFF_OTHER, DIFF_APP);
    accepts("review", FILE_TEXT, both, "file", DIFF_APP, "file");
    snprintf(both, sizeof both, "%s%s", DIFF_APP, DIFF_OTHER);
    accepts("review", FILE_TEXT, both, NULL, DIFF_APP, "added");
    snprintf(shown, sizeof shown, "commit abc\n\n    message\n\n%s", DIFF_APP);
    accepts("review", FILE_TEXT, shown, NULL, DIFF_APP, "added");
    /* One section is taken whatever its names, and bare hunks too. */
    accepts("review", "b\n", DIFF_OTHER, NULL, DIFF_OTHER, "added");
    accepts("review", "b\n", "@@ -1 +1 @@\n-a\n+b\n", NULL, "@@ -1 +1 @@\n-a\n+b\n", "added");
}

static void test_filter_refused(void **state)
{
    (void)state;
    refuses("review", FILE_TEXT, NULL, "added", ERR_INVALID_FIELD_VALUE, "filter",
            "needs a diff");
    refuses("review", FILE_TEXT, DIFF_APP, "changed", ERR_INVALID_FIELD_VALUE, "filter",
            "added, diff_context, file or nofilter");
    refuses("review", FILE_TEXT, DIFF_APP, "", ERR_INVALID_FIELD_VALUE, "filter", "must be");
    refuses("debug", FILE_TEXT, DIFF_APP, "added", ERR_INVALID_FIELD_VALUE, "filter",
            "review requests only");
    refuses("review", FILE_TEXT, DIFF_APP, "an overlong filter value, past thirty-two bytes",
            ERR_FIELD_TOO_LONG, "filter", "limit is 32");
}

static void test_filter_type(void **state)
{
    static const char b[] = "{\"request_type\":\"review\",\"file_path\":\"a.py\","
                            "\"file_content\":\"x\\n\",\"filter\":1}";
    struct review_request r;
    struct err e;

    (void)state;
    assert_int_equal(parse(b, &r, &e), ERR_INVALID_FIELD_TYPE);
    assert_string_equal(e.field, "filter");
}

static void test_invalid_diff(void **state)
{
    (void)state;
    refuses("review", FILE_TEXT, "not a diff\n", NULL, ERR_INVALID_DIFF, "diff",
            "diff line 1: no file header or hunk found");
    refuses("review", FILE_TEXT, "--- a/src/app.py\n+++ b/src/app.py\n@@ -2,3 +2,3 @@\n \n"
            "-    return x\n+    return x * 2\n", NULL, ERR_INVALID_DIFF, "diff",
            "diff line 7: the diff ends inside the hunk at line 3");
    refuses("review", FILE_TEXT, "@@ -1 +1 @@\n-a\n+b\nhello\n", NULL, ERR_INVALID_DIFF, "diff",
            "diff line 4: unexpected line between hunks");
    refuses("review", FILE_TEXT, "diff --git a/src/app.py b/src/app.py\nindex 1..2 100644\n"
            "Binary files a/src/app.py and b/src/app.py differ\n", NULL, ERR_INVALID_DIFF,
            "diff", "binary");
    refuses("review", FILE_TEXT, "diff --git a/src/app.py b/src/app.py\nold mode 100644\n"
            "new mode 100755\n", NULL, ERR_INVALID_DIFF, "diff", "changes no line");
}

static void test_mismatch(void **state)
{
    char other[1024];

    (void)state;
    /* A context line that is not the file's. */
    refuses("review", "import os\n#\ndef f(x):\n    return x * 2\n", DIFF_APP, NULL,
            ERR_DIFF_MISMATCH, "diff", "diff line 6 differs from file_content line 2");
    refuses("review", FILE_TEXT, "@@ -1 +1 @@\n-a\n+import os \n", NULL, ERR_DIFF_MISMATCH,
            "diff", "differs from file_content line 1");
    /* The hunk runs past the end of the file. */
    refuses("review", "import os\n", DIFF_APP, NULL, ERR_DIFF_MISMATCH, "diff",
            "reaches new line 4, but file_content has 1 lines");
    /* Final newline: the diff says there is none, the file has one (and the reverse). */
    refuses("review", "b\n", "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n", NULL,
            ERR_DIFF_MISMATCH, "diff", "is not the file's last line without a newline");
    refuses("review", "b", "@@ -1 +1 @@\n-a\n+b\n", NULL, ERR_DIFF_MISMATCH, "diff",
            "lacks the final newline");
    /* Several sections, none for file_path. */
    snprintf(other, sizeof other, "%s%s", DIFF_OTHER, DIFF_OTHER);
    refuses("review", FILE_TEXT, other, NULL, ERR_DIFF_MISMATCH, "diff",
            "2 file sections and none is for file_path");
    refuses("review", FILE_TEXT, "--- a/src/app.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n", NULL,
            ERR_DIFF_MISMATCH, "diff", "deletes file_path");
}

static void test_too_long(void **state)
{
    size_t n = REVIEW_DIFF_MAX + 1;
    char *diff = malloc(n + 1);

    (void)state;
    assert_non_null(diff);
    memset(diff, '+', n);
    diff[n] = '\0';
    refuses("review", FILE_TEXT, diff, NULL, ERR_FIELD_TOO_LONG, "diff", "the limit is 524288");
    free(diff);
}

/* docs/openapi.yaml: filter "without a diff, or on a debug request: 400
 * invalid_field_value". An architecture request has no diff; its filter is
 * refused like a review's without one, not accepted and ignored. */
static void test_filter_on_architecture(void **state)
{
    static const char b[] = "{\"request_type\":\"architecture\","
                            "\"user_request\":\"a todo app\",\"filter\":\"bogus\"}";
    struct review_request r;
    struct err e;
    int rc;

    (void)state;
    rc = parse(b, &r, &e);
    if (rc == ERR_OK)
        review_request_cleanup(&r);
    assert_int_equal(rc, ERR_INVALID_FIELD_VALUE);
    assert_string_equal(e.field, "filter");
}

/* A diff that creates the file ("--- /dev/null", "@@ -0,0 +1,N @@") has
 * the whole file as its new side: N lines. A file_content with more lines
 * is not that new side; accepted, the lines after N count as neither added
 * nor context, and the added filter drops every finding on them although
 * the whole file is new. */
static void test_new_file_is_whole(void **state)
{
    (void)state;
    refuses("review", FILE_TEXT, "--- /dev/null\n+++ b/src/app.py\n@@ -0,0 +1,2 @@\n"
            "+import os\n+\n", NULL, ERR_DIFF_MISMATCH, "diff", "file_content");
    refuses("review", FILE_TEXT, "diff --git a/src/app.py b/src/app.py\nnew file mode 100644\n"
            "--- /dev/null\n+++ b/src/app.py\n@@ -0,0 +1 @@\n+import os\n", NULL,
            ERR_DIFF_MISMATCH, "diff", "file_content");
    /* Whole, but in two hunks: not how a new file reads. */
    refuses("review", FILE_TEXT, "--- /dev/null\n+++ b/src/app.py\n@@ -0,0 +1,2 @@\n"
            "+import os\n+\n@@ -0,0 +3,5 @@\n+def f(x):\n+    return x * 2\n+\n+def g(y):\n"
            "+    return y + 1\n", NULL, ERR_DIFF_MISMATCH, "diff", "2 hunks");
    /* The whole file: accepted, with or without the headers saying so. */
    {
        static const char whole[] = "--- /dev/null\n+++ b/src/app.py\n@@ -0,0 +1,7 @@\n"
                                    "+import os\n+\n+def f(x):\n+    return x * 2\n+\n"
                                    "+def g(y):\n+    return y + 1\n";
        accepts("review", FILE_TEXT, whole, NULL, whole, "added");
        accepts("review", FILE_TEXT, strstr(whole, "@@"), NULL, strstr(whole, "@@"), "added");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_filter),
        cmocka_unit_test(test_every_filter),
        cmocka_unit_test(test_section_picked),
        cmocka_unit_test(test_filter_refused),
        cmocka_unit_test(test_filter_type),
        cmocka_unit_test(test_invalid_diff),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_filter_on_architecture),
        cmocka_unit_test(test_new_file_is_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
