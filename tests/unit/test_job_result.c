/* test_job_result.c - unit tests for worker/job_result.c: the result a
 * finished job shows its readers and the document PostgreSQL keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/job_result.h"
#include "worker/lint.h"
#include "worker/model_step.h"
#include "worker/redact.h"

/* A review of a.py by flake8 (two findings) and pylint (none). */
struct fx {
    cJSON *entry;
    struct lint_result lint;
    struct redact_result red;
    struct model_out model;
    struct job_parts p;
    struct job_documents d;
    cJSON *result, *doc;
};

static void fx_init(struct fx *f, const char *entry)
{
    memset(f, 0, sizeof *f);
    f->entry = cJSON_Parse(entry);
    assert_non_null(f->entry);
    f->lint.findings = cJSON_Parse(
        "[{\"line\":3,\"severity\":\"minor\",\"category\":\"maintainability\","
        "\"rule_id\":\"E501\",\"message\":\"line too long\",\"source\":\"flake8\"},"
        "{\"line\":9,\"severity\":\"major\",\"category\":\"correctness\","
        "\"rule_id\":\"F821\",\"message\":\"undefined name 'x'\",\"source\":\"flake8\"}]");
    f->lint.linters = cJSON_Parse("[{\"tool\":\"flake8\",\"status\":\"ok\"},"
                                  "{\"tool\":\"pylint\",\"status\":\"ok\"},"
                                  "{\"tool\":\"mypy\",\"status\":\"not_installed\"}]");
    f->lint.notes = cJSON_Parse("[\"a note\"]");
    f->p = (struct job_parts){
        .entry = f->entry, .job_id = "0190a0c0-0000-7000-8000-000000000001",
        .language = "python", .pool = "fast", .worker = "w1",
        .started_at = "2026-11-23T10:00:00Z", .finished_at = "2026-11-23T10:00:01Z",
        .attempts = 1, .error = "", .lint = &f->lint, .red_file = &f->red,
        .provider = "anthropic", .model_name = "m", .charge_tokens = 42,
    };
}

/* Builds the documents, those of an earlier build freed first. */
static void fx_build(struct fx *f)
{
    cJSON_Delete(f->result);
    cJSON_Delete(f->doc);
    job_documents_cleanup(&f->d);
    assert_int_equal(job_result_build(&f->p, &f->d), 0);
    f->result = cJSON_Parse(f->d.result);
    f->doc = cJSON_Parse(f->d.document);
    assert_non_null(f->result);
    assert_non_null(f->doc);
}

static void fx_done(struct fx *f)
{
    cJSON_Delete(f->result);
    cJSON_Delete(f->doc);
    job_documents_cleanup(&f->d);
    lint_result_cleanup(&f->lint);
    redact_result_cleanup(&f->red);
    model_out_cleanup(&f->model);
    cJSON_Delete(f->entry);
}

#define REVIEW_ENTRY \
    "{\"type\":\"review\",\"file_path\":\"a.py\",\"file_content\":\"x\\n\"," \
    "\"request_id\":\"r1\",\"repo_id\":\"repo\",\"user_id\":\"7\",\"month\":\"2026-11\"}"

static void test_counted_summary_and_members(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    fx_build(&f);
    /* No model: the summary counts the findings and names the tools that ran. */
    assert_string_equal(json_str(f.result, "summary"),
                        "2 findings (1 major, 1 minor) from flake8, pylint.");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "findings")), 2);
    assert_string_equal(json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(f.result, "findings"), 0),
                                 "id"), "f1");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "notes")), 1);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(f.result, "degraded")));
    assert_string_equal(json_str(f.result, "provider"), "anthropic");
    assert_int_equal(strlen(json_str(f.result, "file_sha256")), 64);
    /* The reader's result holds no metadata; PostgreSQL's document does. */
    assert_null(cJSON_GetObjectItem(f.result, "user_id"));
    assert_null(cJSON_GetObjectItem(f.result, "job_id"));
    assert_string_equal(json_str(f.doc, "job_id"), f.p.job_id);
    assert_string_equal(json_str(f.doc, "status"), "done");
    assert_string_equal(json_str(f.doc, "request_id"), "r1");
    assert_string_equal(json_str(f.doc, "charge_month"), "2026-11");
    assert_int_equal(cJSON_GetObjectItem(f.doc, "charge_tokens")->valueint, 42);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f.doc, "error")));
    /* No fix: no files kept. No model step: nothing dropped to count. */
    assert_null(cJSON_GetObjectItem(f.doc, "job_files"));
    assert_null(cJSON_GetObjectItem(f.doc, "task_result"));
    assert_null(cJSON_GetObjectItem(f.result, "findings_dropped"));
    fx_done(&f);
}

static void test_model_summary_and_secret_scan(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    f.red.count = 1;
    f.red.findings = cJSON_Parse("[{\"line\":1,\"severity\":\"critical\",\"category\":"
                                 "\"security\",\"rule_id\":\"secret:aws\",\"message\":\"k\","
                                 "\"source\":\"secrets\"}]");
    fx_build(&f);
    assert_string_equal(json_str(f.result, "summary"),
                        "3 findings (1 critical, 1 major, 1 minor) from flake8, pylint, "
                        "secret scan.");

    /* The model's own summary wins, unless it is degraded. */
    f.model.summary = strdup("Looks fine.");
    f.model.usage.input_tokens = 100;
    f.model.cached = 1;
    f.model.answered = 1;
    f.p.model = &f.model;
    f.p.usage = &f.model.usage;
    f.p.cost_usd = 0.5;
    fx_build(&f);
    assert_string_equal(json_str(f.result, "summary"), "Looks fine.");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f.result, "cached")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f.result, "usage"),
                                         "input_tokens")->valueint, 100);
    /* What the model reported and validation dropped is counted, in the
     * result and in the task result PostgreSQL keeps. */
    assert_int_equal(cJSON_GetObjectItem(f.result, "findings_dropped")->valueint, 0);
    f.model.dropped = 2;
    fx_build(&f);
    assert_int_equal(cJSON_GetObjectItem(f.result, "findings_dropped")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f.doc, "task_result"),
                                         "findings_dropped")->valueint, 2);
    /* A design or a load test asks the model for no findings. */
    cJSON_ReplaceItemInObject(f.entry, "type", cJSON_CreateString("architecture"));
    fx_build(&f);
    assert_null(cJSON_GetObjectItem(f.result, "findings_dropped"));
    cJSON_ReplaceItemInObject(f.entry, "type", cJSON_CreateString("review"));

    f.model.degraded = 1;
    snprintf(f.model.degraded_reason, sizeof f.model.degraded_reason, "model_timeout");
    fx_build(&f);
    assert_string_equal(json_str(f.result, "summary"),
                        "3 findings (1 critical, 1 major, 1 minor) from flake8, pylint, "
                        "secret scan.");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f.result, "degraded")));
    assert_string_equal(json_str(f.result, "degraded_reason"), "model_timeout");
    /* No answer (static-only, or the model failed): nothing to count. */
    f.model.answered = 0;
    fx_build(&f);
    assert_null(cJSON_GetObjectItem(f.result, "findings_dropped"));
    fx_done(&f);
}

static void test_nothing_ran(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    cJSON_Delete(f.lint.linters);
    cJSON_Delete(f.lint.findings);
    f.lint.linters = NULL;      /* NULL arrays count as empty */
    f.lint.findings = NULL;
    fx_build(&f);
    assert_string_equal(json_str(f.result, "summary"),
                        "No static analysis ran for this file; see notes.");
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(f.result, "linters")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "findings")), 0);
    fx_done(&f);
}

static void test_failed_job_has_no_findings(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    f.p.failed = 1;
    f.p.error = "the result could not be stored";
    fx_build(&f);
    assert_string_equal(json_str(f.result, "summary"), "The review could not run.");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "findings")), 0);
    assert_string_equal(json_str(f.doc, "status"), "failed");
    assert_string_equal(json_str(f.doc, "error"), "the result could not be stored");
    fx_done(&f);
}

/* Cancelled by its owner: no findings (the linters' either), its own
 * summary, status cancelled in PostgreSQL's document. */
static void test_cancelled_job(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    f.p.failed = 1;
    f.p.cancelled = 1;
    f.p.error = "cancelled by its owner";
    fx_build(&f);
    assert_string_equal(json_str(f.result, "summary"),
                        "Cancelled by its owner before it finished.");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "findings")), 0);
    assert_string_equal(json_str(f.doc, "status"), "cancelled");
    assert_string_equal(json_str(f.doc, "error"), "cancelled by its owner");
    fx_done(&f);
}

/* Cancelled while its model step ran: no model step finished, but what its
 * answered calls spent is its usage and cost, beside the tokens charged. */
static void test_cancelled_job_reports_what_it_spent(void **state)
{
    struct fx f;
    struct llm_usage spent = {.input_tokens = 9000, .output_tokens = 700};
    const cJSON *u;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    f.p.failed = 1;
    f.p.cancelled = 1;
    f.p.error = "cancelled by its owner";
    f.p.usage = &spent;
    f.p.cost_usd = 0.0375;
    f.p.charge_tokens = 9700 + 2500;    /* and the aborted call's estimate */
    fx_build(&f);
    u = cJSON_GetObjectItem(f.result, "usage");
    assert_int_equal(cJSON_GetObjectItem(u, "input_tokens")->valueint, 9000);
    assert_int_equal(cJSON_GetObjectItem(u, "output_tokens")->valueint, 700);
    assert_float_equal(cJSON_GetObjectItem(u, "cost_usd")->valuedouble, 0.0375, 1e-9);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(f.result, "cached")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f.doc, "usage"),
                                         "input_tokens")->valueint, 9000);
    assert_int_equal(cJSON_GetObjectItem(f.doc, "charge_tokens")->valueint, 12200);
    fx_done(&f);
}

static void test_minimal_form_drops_written_text(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    f.p.minimal = 1;
    f.p.failed = 1;
    f.model.reviewed_ranges = cJSON_Parse("[[1,9]]");
    f.p.model = &f.model;
    fx_build(&f);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "notes")), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "linters")), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "reviewed_ranges")), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f.doc, "file_path")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f.doc, "request_id")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f.doc, "repo_id")));
    /* What identifies the job stays. */
    assert_string_equal(json_str(f.doc, "user_id"), "7");
    assert_string_equal(json_str(f.doc, "language"), "python");
    fx_done(&f);
}

static void test_diff_filter_members_are_task_result(void **state)
{
    struct fx f;
    (void)state;

    /* The diff adds line 3 only: the "added" filter keeps the finding on 3. */
    fx_init(&f, "{\"type\":\"review\",\"file_path\":\"a.py\",\"filter\":\"added\","
                "\"diff\":\"--- a/a.py\\n+++ b/a.py\\n@@ -3,0 +3 @@\\n+y = 2\\n\"}");
    fx_build(&f);
    assert_false(f.d.filter_skipped);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "findings")), 1);
    assert_string_equal(json_str(f.result, "filter"), "added");
    assert_int_equal(cJSON_GetObjectItem(f.result, "filtered_out")->valueint, 1);
    assert_string_equal(json_str(cJSON_GetObjectItem(f.doc, "task_result"), "filter"), "added");
    fx_done(&f);

    /* A filter the worker does not know keeps every finding, and says so. */
    fx_init(&f, "{\"type\":\"review\",\"file_path\":\"a.py\",\"filter\":\"bogus\","
                "\"diff\":\"--- a/a.py\\n+++ b/a.py\\n@@ -3,0 +3 @@\\n+y = 2\\n\"}");
    fx_build(&f);
    assert_true(f.d.filter_skipped);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.result, "findings")), 2);
    fx_done(&f);
}

static void test_text_not_utf8_is_replaced(void **state)
{
    struct fx f;
    (void)state;

    fx_init(&f, REVIEW_ENTRY);
    cJSON_AddItemToArray(f.lint.notes, cJSON_CreateString("bad \xff byte"));
    fx_build(&f);
    assert_true(f.d.not_utf8);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(f.result, "notes"), 1)->valuestring,
                        "bad ? byte");
    fx_done(&f);
}

static void test_degraded_reason(void **state)
{
    cJSON *e = cJSON_Parse("{\"degraded\":\"1\"}");
    cJSON *e2 = cJSON_Parse("{\"degraded\":\"1\",\"degraded_reason\":\"throttled\"}");
    struct model_out m;
    (void)state;

    memset(&m, 0, sizeof m);
    assert_string_equal(job_result_degraded_reason(e, NULL), "budget_exhausted");
    assert_string_equal(job_result_degraded_reason(e2, NULL), "throttled");
    assert_string_equal(job_result_degraded_reason(e2, &m), "throttled");
    m.degraded = 1;
    snprintf(m.degraded_reason, sizeof m.degraded_reason, "model_error");
    assert_string_equal(job_result_degraded_reason(e, &m), "model_error");
    assert_null(job_result_degraded_reason(NULL, NULL));
    cJSON_Delete(e);
    cJSON_Delete(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counted_summary_and_members),
        cmocka_unit_test(test_model_summary_and_secret_scan),
        cmocka_unit_test(test_nothing_ran),
        cmocka_unit_test(test_failed_job_has_no_findings),
        cmocka_unit_test(test_cancelled_job),
        cmocka_unit_test(test_cancelled_job_reports_what_it_spent),
        cmocka_unit_test(test_minimal_form_drops_written_text),
        cmocka_unit_test(test_diff_filter_members_are_task_result),
        cmocka_unit_test(test_text_not_utf8_is_replaced),
        cmocka_unit_test(test_degraded_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
