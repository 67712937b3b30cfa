/* test_export_sarif.c - unit tests for gateway/export_sarif.c: job views in,
 * SARIF 2.1.0 logs out, every value checked. (The schema itself is checked
 * end to end, tests/e2e/test_exports.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"

#include "common/json.h"
#include "gateway/export_sarif.h"
#include "tests/unit/export_views.h"
#include "tests/unit/jsonassert.h"

/* The log of a view given as JSON text. */
static cJSON *sarif_of(const char *view_json, const char *info_uri)
{
    cJSON *view = cJSON_Parse(view_json), *log;

    assert_non_null(view);
    log = export_sarif(view, info_uri);
    cJSON_Delete(view);
    assert_non_null(log);
    return log;
}

#define REVIEW(findings) \
    "{\"job_id\":\"0193c0de-5b1f-7cc2-9a4e-1f2d3c4b5a69\",\"type\":\"review\"," \
    "\"status\":\"done\",\"file_path\":\"src/app.py\",\"language\":\"python\"," \
    "\"started_at\":\"2026-11-22T10:00:00.125Z\",\"finished_at\":\"2026-11-22T10:00:02.5Z\"," \
    "\"notes\":[],\"error\":null,\"degraded\":false,\"findings\":" findings "}"

static void test_review_log(void **state)
{
    cJSON *log;
    (void)state;

    log = sarif_of(REVIEW("["
        "{\"line\":1,\"column\":1,\"severity\":\"minor\",\"category\":\"maintainability\","
        " \"rule_id\":\"F401\",\"message\":\"'os' imported but unused\",\"source\":\"lint:flake8\"},"
        "{\"id\":\"f7\",\"line\":8,\"end_line\":9,\"severity\":\"major\",\"category\":\"correctness\","
        " \"rule_id\":\"model:correctness\",\"message\":\"The loop skips the first value.\","
        " \"source\":\"model\",\"confidence\":0.9},"
        "{\"line\":3,\"end_line\":3,\"severity\":\"info\",\"category\":\"maintainability\","
        " \"rule_id\":\"F401\",\"message\":\"'sys' imported but unused\",\"source\":\"lint:flake8\"},"
        "{\"line\":4,\"severity\":\"critical\",\"category\":\"security\","
        " \"rule_id\":\"secret:aws\",\"message\":\"AWS key\",\"source\":\"secrets\"}]"), NULL);

    assert_string_equal(ja_str_at(log, "$schema"), SARIF_SCHEMA_URI);
    assert_string_equal(ja_str_at(log, "version"), "2.1.0");
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs")), 1);
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.name"), "Code Insight");
    assert_non_null(ja_str_at(log, "runs.0.tool.driver.version"));
    assert_null(ja_at(log, "runs.0.tool.driver.informationUri"));

    /* One rule per distinct rule id, in order of first use. */
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.tool.driver.rules")), 3);
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.0.id"), "F401");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.0.shortDescription.text"),
                        "'os' imported but unused");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.0.defaultConfiguration.level"),
                        "warning");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.0.properties.category"),
                        "maintainability");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.0.properties.tags.1"),
                        "lint:flake8");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.1.id"), "model:correctness");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.1.shortDescription.text"),
                        "Model review: correctness");
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.rules.2.properties.security-severity"),
                        "9.0");
    assert_null(ja_at(log, "runs.0.tool.driver.rules.0.properties.security-severity"));

    /* Results: rule, level, message, location. */
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.results")), 4);
    assert_string_equal(ja_str_at(log, "runs.0.results.0.ruleId"), "F401");
    assert_true(ja_num_at(log, "runs.0.results.0.ruleIndex") == 0);
    assert_string_equal(ja_str_at(log, "runs.0.results.0.level"), "warning");
    assert_string_equal(ja_str_at(log, "runs.0.results.0.message.text"), "'os' imported but unused");
    assert_string_equal(
        ja_str_at(log, "runs.0.results.0.locations.0.physicalLocation.artifactLocation.uri"),
        "src/app.py");
    assert_string_equal(
        ja_str_at(log, "runs.0.results.0.locations.0.physicalLocation.artifactLocation.uriBaseId"),
        "%SRCROOT%");
    assert_true(ja_num_at(log, "runs.0.results.0.locations.0.physicalLocation.region.startLine") == 1);
    assert_true(ja_num_at(log, "runs.0.results.0.locations.0.physicalLocation.region.startColumn") == 1);
    assert_null(ja_at(log, "runs.0.results.0.locations.0.physicalLocation.region.endLine"));
    assert_null(ja_at(log, "runs.0.results.0.locations.0.physicalLocation.region.endColumn"));

    assert_string_equal(ja_str_at(log, "runs.0.results.1.level"), "error");
    assert_true(ja_num_at(log, "runs.0.results.1.ruleIndex") == 1);
    assert_true(ja_num_at(log, "runs.0.results.1.locations.0.physicalLocation.region.startLine") == 8);
    assert_true(ja_num_at(log, "runs.0.results.1.locations.0.physicalLocation.region.endLine") == 9);
    assert_null(ja_at(log, "runs.0.results.1.locations.0.physicalLocation.region.startColumn"));
    assert_string_equal(ja_str_at(log, "runs.0.results.1.properties.finding_id"), "f7");
    assert_string_equal(ja_str_at(log, "runs.0.results.1.properties.source"), "model");
    assert_true(ja_num_at(log, "runs.0.results.1.properties.confidence") == 0.9);

    /* Same rule as the first: same index; an end_line equal to line is not written. */
    assert_true(ja_num_at(log, "runs.0.results.2.ruleIndex") == 0);
    assert_string_equal(ja_str_at(log, "runs.0.results.2.level"), "note");
    assert_string_equal(ja_str_at(log, "runs.0.results.2.properties.finding_id"), "f3");
    assert_null(ja_at(log, "runs.0.results.2.locations.0.physicalLocation.region.endLine"));
    assert_string_equal(ja_str_at(log, "runs.0.results.3.level"), "error");
    assert_null(ja_at(log, "runs.0.results.0.fixes"));

    /* The invocation and the artifact. */
    assert_true(cJSON_IsTrue(ja_at(log, "runs.0.invocations.0.executionSuccessful")));
    assert_string_equal(ja_str_at(log, "runs.0.invocations.0.startTimeUtc"),
                        "2026-11-22T10:00:00.125Z");
    assert_string_equal(ja_str_at(log, "runs.0.invocations.0.endTimeUtc"), "2026-11-22T10:00:02.5Z");
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.invocations.0.toolExecutionNotifications")), 0);
    assert_string_equal(ja_str_at(log, "runs.0.artifacts.0.location.uri"), "src/app.py");
    assert_string_equal(ja_str_at(log, "runs.0.artifacts.0.sourceLanguage"), "python");
    assert_string_equal(ja_str_at(log, "runs.0.columnKind"), "unicodeCodePoints");
    cJSON_Delete(log);
}

static const char *uri_of(const char *path_json)
{
    static char out[256];
    char view[512];
    cJSON *log;

    snprintf(view, sizeof view,
             "{\"type\":\"review\",\"status\":\"done\",\"file_path\":%s,\"findings\":"
             "[{\"line\":2,\"severity\":\"info\",\"rule_id\":\"X1\",\"message\":\"m\"}]}",
             path_json);
    log = sarif_of(view, NULL);
    snprintf(out, sizeof out, "%s",
             ja_str_at(log, "runs.0.results.0.locations.0.physicalLocation.artifactLocation.uri"));
    cJSON_Delete(log);
    return out;
}

static void test_uri_encoding(void **state)
{
    (void)state;
    assert_string_equal(uri_of("\"src/my file#1.py\""), "src/my%20file%231.py");
    /* A colon in the first segment would read as a scheme. */
    assert_string_equal(uri_of("\"c:x.py\""), "c%3Ax.py");
    assert_string_equal(uri_of("\"dir\\\\sub\\\\a.py\""), "dir/sub/a.py");
    assert_string_equal(uri_of("\"caf\\u00e9/%.py\""), "caf%C3%A9/%25.py");
    assert_string_equal(uri_of("\"a-b_c.d~e/F.py\""), "a-b_c.d~e/F.py");
}

static void test_fingerprint(void **state)
{
    char a[17], b[17];
    (void)state;

    sarif_fingerprint("app.py", "F841", "local variable 'x' is assigned to but never used", a);
    assert_int_equal(strlen(a), 16);
    assert_int_equal(strspn(a, "0123456789abcdef"), 16);
    /* Case, whitespace runs, leading/trailing space and digit runs do not count. */
    sarif_fingerprint("app.py", "F841", "  Local   variable 'x' is assigned to\tbut never used ", b);
    assert_string_equal(a, b);
    sarif_fingerprint("app.py", "E0102", "function already defined line 3", a);
    sarif_fingerprint("app.py", "E0102", "function already defined line 127", b);
    assert_string_equal(a, b);
    /* Path, rule and words do. */
    sarif_fingerprint("app.py", "F841", "local variable 'x' is assigned to but never used", a);
    sarif_fingerprint("lib.py", "F841", "local variable 'x' is assigned to but never used", b);
    assert_string_not_equal(a, b);
    sarif_fingerprint("app.py", "F842", "local variable 'x' is assigned to but never used", b);
    assert_string_not_equal(a, b);
    sarif_fingerprint("app.py", "F841", "local variable 'y' is assigned to but never used", b);
    assert_string_not_equal(a, b);
    /* The separator keeps "ab"+"c" apart from "a"+"bc". */
    sarif_fingerprint("ab", "c", "m", a);
    sarif_fingerprint("a", "bc", "m", b);
    assert_string_not_equal(a, b);
    sarif_fingerprint(NULL, NULL, NULL, a);
    sarif_fingerprint("", "", "", b);
    assert_string_equal(a, b);
}

static void test_fingerprint_occurrences(void **state)
{
    cJSON *log, *moved;
    const char *h0, *h1, *h2;
    (void)state;

    log = sarif_of(REVIEW("["
        "{\"line\":3,\"severity\":\"minor\",\"rule_id\":\"W1\",\"message\":\"same\"},"
        "{\"line\":5,\"severity\":\"minor\",\"rule_id\":\"W1\",\"message\":\"same\"},"
        "{\"line\":9,\"severity\":\"minor\",\"rule_id\":\"W1\",\"message\":\"other\"}]"), NULL);
    h0 = ja_str_at(log, "runs.0.results.0.partialFingerprints.primaryLocationLineHash");
    h1 = ja_str_at(log, "runs.0.results.1.partialFingerprints.primaryLocationLineHash");
    h2 = ja_str_at(log, "runs.0.results.2.partialFingerprints.primaryLocationLineHash");
    assert_int_equal(strlen(h0), 18);
    assert_string_equal(h0 + 16, ":1");
    assert_string_equal(h1 + 16, ":2");
    assert_string_equal(h2 + 16, ":1");
    assert_memory_equal(h0, h1, 16);
    assert_memory_not_equal(h0, h2, 16);

    /* The same findings ten lines further down keep their fingerprints. */
    moved = sarif_of(REVIEW("["
        "{\"line\":13,\"severity\":\"minor\",\"rule_id\":\"W1\",\"message\":\"same\"},"
        "{\"line\":15,\"severity\":\"minor\",\"rule_id\":\"W1\",\"message\":\"same\"}]"), NULL);
    assert_string_equal(ja_str_at(moved, "runs.0.results.0.partialFingerprints.primaryLocationLineHash"), h0);
    assert_string_equal(ja_str_at(moved, "runs.0.results.1.partialFingerprints.primaryLocationLineHash"), h1);
    cJSON_Delete(moved);
    cJSON_Delete(log);
}

static void test_failed_job(void **state)
{
    cJSON *log;
    (void)state;

    log = sarif_of("{\"type\":\"review\",\"status\":\"failed\",\"file_path\":\"a.sh\","
                   "\"error\":\"worker gave up after 3 attempts\",\"findings\":"
                   "[{\"line\":1,\"severity\":\"major\",\"rule_id\":\"SC1\",\"message\":\"m\"}]}",
                   NULL);
    assert_true(cJSON_IsFalse(ja_at(log, "runs.0.invocations.0.executionSuccessful")));
    assert_string_equal(ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.0.level"),
                        "error");
    assert_string_equal(
        ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.0.message.text"),
        "worker gave up after 3 attempts");
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.results")), 0);
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.tool.driver.rules")), 0);
    assert_null(ja_at(log, "runs.0.invocations.0.startTimeUtc"));
    cJSON_Delete(log);

    /* No error text: still a notification. */
    log = sarif_of("{\"type\":\"review\",\"status\":\"failed\",\"error\":null}", NULL);
    assert_string_equal(
        ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.0.message.text"),
        "the job failed");
    cJSON_Delete(log);
}

static void test_notes_degraded_and_info_uri(void **state)
{
    cJSON *log;
    (void)state;

    log = sarif_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":\"a.py\","
                   "\"degraded\":true,\"degraded_reason\":\"budget_exhausted\","
                   "\"started_at\":\"yesterday\",\"finished_at\":\"2026-11-22T10:00:02\","
                   "\"notes\":[\"pylint is not installed\",7],\"findings\":[]}",
                   "https://ci.example.test/docs");
    assert_true(cJSON_IsTrue(ja_at(log, "runs.0.invocations.0.executionSuccessful")));
    assert_string_equal(ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.0.level"),
                        "warning");
    assert_string_equal(
        ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.0.message.text"),
        "The model review did not run: budget_exhausted");
    assert_string_equal(ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.1.level"),
                        "note");
    assert_string_equal(
        ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.1.message.text"),
        "pylint is not installed");
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.invocations.0.toolExecutionNotifications")), 2);
    /* Timestamps not in RFC 3339 form are left out. */
    assert_null(ja_at(log, "runs.0.invocations.0.startTimeUtc"));
    assert_null(ja_at(log, "runs.0.invocations.0.endTimeUtc"));
    assert_string_equal(ja_str_at(log, "runs.0.tool.driver.informationUri"),
                        "https://ci.example.test/docs");
    cJSON_Delete(log);

    /* A long reason (a vendor's error, say) is cut on a character. */
    {
        char view[1024];
        const char *text;
        int at = snprintf(view, sizeof view, "{\"type\":\"review\",\"status\":\"done\","
                          "\"file_path\":\"a.py\",\"degraded\":true,\"degraded_reason\":\"");
        for (int i = 0; i < 200; i++)
            at += snprintf(view + at, sizeof view - (size_t)at, "\xc3\xa9");
        snprintf(view + at, sizeof view - (size_t)at, "\",\"findings\":[]}");
        log = sarif_of(view, NULL);
        text = ja_str_at(log, "runs.0.invocations.0.toolExecutionNotifications.0.message.text");
        assert_true(strlen(text) > 100);
        assert_true(utf8_valid(text, strlen(text), NULL));
        cJSON_Delete(log);
    }
}

static void test_partial_views(void **state)
{
    cJSON *log;
    (void)state;

    /* No file path: no locations, no artifacts; odd findings are tolerated. */
    log = sarif_of("{\"type\":\"review\",\"status\":\"done\",\"file_path\":null,\"findings\":"
                   "[{\"line\":\"3\",\"rule_id\":\"\",\"message\":5,\"column\":-2},"
                   " 42, {\"line\":2.0,\"column\":0,\"severity\":\"bogus\",\"rule_id\":\"R\","
                   "  \"message\":\"x\",\"confidence\":\"high\"}]}", NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.results")), 2);
    assert_string_equal(ja_str_at(log, "runs.0.results.0.ruleId"), "unknown");
    assert_string_equal(ja_str_at(log, "runs.0.results.0.message.text"), "");
    assert_string_equal(ja_str_at(log, "runs.0.results.0.level"), "note");
    assert_null(ja_at(log, "runs.0.results.0.locations"));
    assert_null(ja_at(log, "runs.0.artifacts"));
    /* The second finding is the array's third element: its id says so. */
    assert_string_equal(ja_str_at(log, "runs.0.results.1.properties.finding_id"), "f3");
    assert_null(ja_at(log, "runs.0.results.1.properties.confidence"));
    cJSON_Delete(log);

    /* A view with nothing but a status still makes a log. */
    log = sarif_of("{\"status\":\"done\"}", NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.results")), 0);
    cJSON_Delete(log);
}


/* A debug job's diagnosis is one more result, on its root frame, with the
 * fix when the fix is for that file; "fix" is its apply-fix id. */
static void test_debug_diagnosis(void **state)
{
    cJSON *log;
    (void)state;

    log = sarif_of(DEBUG_VIEW("{\"file\":\"app/util.py\",\"line\":2,\"function\":\"div\"}",
                              UTIL_FIX, "{\"reproduced\":true,\"verified\":true}"), NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.results")), 2);
    assert_string_equal(ja_str_at(log, "runs.0.results.1.ruleId"), "debug-doctor/root-cause");
    assert_string_equal(ja_str_at(log, "runs.0.results.1.level"), "error");
    assert_string_equal(ja_str_at(log, "runs.0.results.1.message.text"),
                        "mean() divides by len([]). (the fix was verified in the sandbox)");
    assert_string_equal(
        ja_str_at(log, "runs.0.results.1.locations.0.physicalLocation.artifactLocation.uri"),
        "app/util.py");
    assert_int_equal(
        (long)ja_num_at(log, "runs.0.results.1.locations.0.physicalLocation.region.startLine"), 2);
    assert_string_equal(ja_str_at(log, "runs.0.results.1.properties.finding_id"), "fix");
    assert_string_equal(ja_str_at(log, "runs.0.results.1.properties.source"), "debug-doctor");
    assert_string_equal(ja_str_at(log, "runs.0.results.1.fixes.0.artifactChanges.0."
                                       "replacements.0.insertedContent.text"),
                        "    return a / b if b else 0.0\n");
    cJSON_Delete(log);

    /* The fix is for another file than the frame's: the result has none.
     * No root frame: on the job's file, no line. */
    log = sarif_of(DEBUG_VIEW("{\"file\":\"app/main.py\",\"line\":5}", UTIL_FIX,
                              "{\"reproduced\":true,\"verified\":false}"), NULL);
    assert_null(ja_at(log, "runs.0.results.1.fixes"));
    assert_string_equal(ja_str_at(log, "runs.0.results.1.message.text"),
                        "mean() divides by len([]). (reproduced in the sandbox; the fix is not "
                        "verified)");
    cJSON_Delete(log);
    log = sarif_of(DEBUG_VIEW("null", "null", "null"), NULL);
    assert_string_equal(
        ja_str_at(log, "runs.0.results.1.locations.0.physicalLocation.artifactLocation.uri"),
        "app/main.py");
    assert_null(ja_at(log, "runs.0.results.1.locations.0.physicalLocation.region"));
    assert_string_equal(ja_str_at(log, "runs.0.results.1.message.text"),
                        "mean() divides by len([]).");
    cJSON_Delete(log);

    /* A review job, or a debug job not done: no diagnosis. */
    log = sarif_of("{\"type\":\"debug\",\"status\":\"failed\",\"file_path\":\"a.py\","
                   "\"root_cause\":\"x\"}", NULL);
    assert_int_equal(cJSON_GetArraySize(ja_at(log, "runs.0.results")), 0);
    cJSON_Delete(log);
}

/* A debug job of stats.py with a neighbour b/stats.py, the root frame in
 * stats.py, a fix whose header is "+++ b/stats.py"; fix_file (JSON text, or
 * NULL for a view without it) is the file the worker resolved the fix to. */
static cJSON *b_slash_log(const char *fix_file)
{
    char view[1024], member[128] = "";

    if (fix_file != NULL)
        snprintf(member, sizeof member, ",\"fix_file\":%s", fix_file);
    snprintf(view, sizeof view,
             "{\"type\":\"debug\",\"status\":\"done\",\"file_path\":\"stats.py\","
             "\"findings\":[],\"root_cause\":\"len(xs) is 0.\","
             "\"root_frame\":{\"file\":\"stats.py\",\"line\":2},"
             "\"fix\":\"--- a/stats.py\\n+++ b/stats.py\\n@@ -2 +2 @@\\n"
             "-    return sum(xs) / len(xs)\\n+    return 0.0\\n\"%s}",
             member);
    return sarif_of(view, NULL);
}

/* The diagnosis carries the fix only when it is for the diagnosis' file as
 * the worker and POST /apply-fix read it (fix_file): "+++ b/stats.py" is
 * the neighbour b/stats.py when one was submitted, not stats.py. */
static void test_debug_fix_on_the_file_it_is_for(void **state)
{
    cJSON *log;
    (void)state;

    log = b_slash_log("\"b/stats.py\"");
    assert_string_equal(ja_str_at(log, "runs.0.results.0.ruleId"), "debug-doctor/root-cause");
    assert_null(ja_at(log, "runs.0.results.0.fixes"));
    cJSON_Delete(log);
    /* A fix that names no file submitted. */
    log = b_slash_log("null");
    assert_null(ja_at(log, "runs.0.results.0.fixes"));
    cJSON_Delete(log);
    log = b_slash_log("\"stats.py\"");
    assert_non_null(ja_at(log, "runs.0.results.0.fixes.0"));
    cJSON_Delete(log);
    /* A job from before fix_file: the header alone, "b/" + stats.py. */
    log = b_slash_log(NULL);
    assert_non_null(ja_at(log, "runs.0.results.0.fixes.0"));
    cJSON_Delete(log);
}

static void test_fixes(void **state)
{
    cJSON *log;
    const char *r0 = "runs.0.results.0.fixes.0.artifactChanges.0.replacements";
    char p[160];
    (void)state;

    /* A replacement, an insertion and a deletion in one fix; an unreadable fix. */
    log = sarif_of(REVIEW("["
        "{\"line\":3,\"severity\":\"major\",\"rule_id\":\"model:correctness\",\"message\":\"m\","
        " \"source\":\"model\",\"fix\":\"--- a/src/app.py\\n+++ b/src/app.py\\n"
        "@@ -2,3 +2,3 @@\\n l2\\n-l3\\n+L3\\n l4\\n@@ -6,2 +6,4 @@\\n l6\\n+n1\\n+n2\\n l7\\n"
        "@@ -9,3 +11,2 @@\\n l9\\n-l10\\n l11\\n\"},"
        "{\"line\":4,\"severity\":\"minor\",\"rule_id\":\"model:style\",\"message\":\"m\","
        " \"fix\":\"not a diff\"}]"), NULL);
    assert_string_equal(ja_str_at(log, "runs.0.results.0.fixes.0.description.text"),
                        "Suggested fix from model");
    assert_string_equal(
        ja_str_at(log, "runs.0.results.0.fixes.0.artifactChanges.0.artifactLocation.uri"),
        "src/app.py");
    assert_int_equal(cJSON_GetArraySize(ja_at(log, r0)), 3);
    {
        static const struct { long sl, sc, el, ec; const char *text; } want[] = {
            {3, 1, 4, 1, "L3\n"}, {7, 1, 7, 1, "n1\nn2\n"}, {10, 1, 11, 1, NULL},
        };
        for (int i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s.%d.deletedRegion.startLine", r0, i);
            assert_int_equal((long)ja_num_at(log, p), want[i].sl);
            snprintf(p, sizeof p, "%s.%d.deletedRegion.startColumn", r0, i);
            assert_int_equal((long)ja_num_at(log, p), want[i].sc);
            snprintf(p, sizeof p, "%s.%d.deletedRegion.endLine", r0, i);
            assert_int_equal((long)ja_num_at(log, p), want[i].el);
            snprintf(p, sizeof p, "%s.%d.deletedRegion.endColumn", r0, i);
            assert_int_equal((long)ja_num_at(log, p), want[i].ec);
            snprintf(p, sizeof p, "%s.%d.insertedContent.text", r0, i);
            if (want[i].text != NULL)
                assert_string_equal(ja_str_at(log, p), want[i].text);
            else
                assert_null(ja_at(log, p));     /* a pure deletion */
        }
    }
    assert_null(ja_at(log, "runs.0.results.1.fixes"));
    assert_string_equal(ja_str_at(log, "runs.0.results.1.ruleId"), "model:style");
    cJSON_Delete(log);

    /* Without a file path there is nothing to change. */
    log = sarif_of("{\"type\":\"review\",\"status\":\"done\",\"findings\":[{\"line\":1,"
                   "\"rule_id\":\"R\",\"message\":\"m\",\"fix\":\"@@ -1 +1 @@\\n-a\\n+b\\n\"}]}",
                   NULL);
    assert_null(ja_at(log, "runs.0.results.0.fixes"));
    cJSON_Delete(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_log),
        cmocka_unit_test(test_uri_encoding),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_fingerprint_occurrences),
        cmocka_unit_test(test_failed_job),
        cmocka_unit_test(test_notes_degraded_and_info_uri),
        cmocka_unit_test(test_partial_views),
        cmocka_unit_test(test_fixes),
        cmocka_unit_test(test_debug_diagnosis),
        cmocka_unit_test(test_debug_fix_on_the_file_it_is_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
