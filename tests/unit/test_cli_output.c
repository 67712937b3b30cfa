/* test_cli_output.c - unit tests for what the CLI prints: compiler-style
 * lines (cli/findings.c), the exit status for --fail-on, SARIF and rdjson
 * merging (cli/merge.c), progress lines (cli/progress.c), and that none
 * of them lets the service's or a diff's text put escape codes on the
 * terminal (cli/output.c, cli/api.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/api.h"
#include "cli/findings.h"
#include "cli/merge.h"
#include "cli/output.h"
#include "cli/progress.h"

/* Adds a job in state st with view (JSON text, may be NULL) and doc. */
static void add_job(struct jobset *js, const char *label, enum cli_job_state st,
                    const char *view, const char *doc)
{
    struct cli_job *j = jobset_add(js, label, NULL);

    assert_non_null(j);
    j->state = st;
    if (view != NULL)
        assert_non_null(j->view = cJSON_Parse(view));
    if (doc != NULL)
        assert_non_null(j->doc = cJSON_Parse(doc));
}

static void test_line_format(void **state)
{
    char buf[256];
    cJSON *f;

    (void)state;
    f = cJSON_Parse("{\"line\":12,\"column\":5,\"severity\":\"major\",\"rule_id\":\"F821\","
                    "\"message\":\"undefined name 'x'\",\"source\":\"lint:flake8\"}");
    assert_string_equal(findings_line(buf, sizeof buf, "src/app.py", f),
                        "src/app.py:12:5: major: undefined name 'x' [F821] (lint:flake8)");
    cJSON_Delete(f);

    /* No column: 1. Newlines flattened. Empty rule and source left out. */
    f = cJSON_Parse("{\"line\":3,\"severity\":\"minor\",\"rule_id\":\"\","
                    "\"message\":\"two\\nlines\"}");
    assert_string_equal(findings_line(buf, sizeof buf, "a.go", f), "a.go:3:1: minor: two lines");
    cJSON_Delete(f);

    /* Garbage numbers and no severity. */
    f = cJSON_Parse("{\"line\":\"7\",\"column\":0,\"message\":\"m\",\"source\":\"model\"}");
    assert_string_equal(findings_line(buf, sizeof buf, "p", f), "p:1:1: info: m (model)");
    /* Cut, never overrun. */
    assert_string_equal(findings_line(buf, 8, "abcdefghij", f), "abcdefg");
    cJSON_Delete(f);
}

static char *print_text(const struct jobset *js, long *n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    *n = findings_print(out, js);
    fclose(out);
    return text;
}

#define F(line, col, sev, msg) \
    "{\"line\":" #line ",\"column\":" #col ",\"severity\":\"" sev "\",\"rule_id\":\"R\"," \
    "\"message\":\"" msg "\",\"source\":\"s\"}"

static void test_sorted_and_counted(void **state)
{
    struct jobset js = {0};
    long n, counts[SEV_NEVER];
    char *text, sum[128];

    (void)state;
    add_job(&js, "b.py", JOB_DONE, "{\"findings\":[" F(9, 1, "minor", "b9") "," F(2, 4, "major",
            "b2") "]}", NULL);
    add_job(&js, "a.py", JOB_DONE, "{\"findings\":[" F(5, 2, "info", "a5b") "," F(5, 1,
            "critical", "a5a") "," F(5, 2, "minor", "a5c") "]}", NULL);
    /* Not finished: not printed, not counted. */
    add_job(&js, "c.py", JOB_RUNNING, "{\"findings\":[" F(1, 1, "critical", "c") "]}", NULL);
    text = print_text(&js, &n);
    assert_int_equal(n, 5);
    assert_string_equal(text,
                        "a.py:5:1: critical: a5a [R] (s)\n"
                        "a.py:5:2: info: a5b [R] (s)\n"
                        "a.py:5:2: minor: a5c [R] (s)\n"
                        "b.py:2:4: major: b2 [R] (s)\n"
                        "b.py:9:1: minor: b9 [R] (s)\n");
    free(text);
    findings_count(&js, counts);
    assert_int_equal(counts[SEV_CRITICAL], 1);
    assert_int_equal(counts[SEV_MAJOR], 1);
    assert_int_equal(counts[SEV_MINOR], 2);
    assert_int_equal(counts[SEV_INFO], 1);
    assert_string_equal(findings_summary(sum, sizeof sum, counts, 3),
                        "5 findings (1 critical, 1 major, 2 minor, 1 info) in 3 files");
    memset(counts, 0, sizeof counts);
    assert_string_equal(findings_summary(sum, sizeof sum, counts, 1), "no findings in 1 file");
    counts[SEV_MAJOR] = 1;
    assert_string_equal(findings_summary(sum, sizeof sum, counts, 2),
                        "1 finding (1 major) in 2 files");
    jobset_cleanup(&js);
}

static void test_exit_status(void **state)
{
    struct jobset js = {0};

    (void)state;
    add_job(&js, "a", JOB_DONE, "{\"findings\":[" F(1, 1, "major", "m") "," F(2, 1, "info",
            "i") "]}", NULL);
    assert_int_equal(findings_exit_status(&js, SEV_CRITICAL), CLI_EXIT_OK);
    assert_int_equal(findings_exit_status(&js, SEV_MAJOR), CLI_EXIT_FINDINGS);
    assert_int_equal(findings_exit_status(&js, SEV_MINOR), CLI_EXIT_FINDINGS);
    assert_int_equal(findings_exit_status(&js, SEV_NEVER), CLI_EXIT_OK);
    /* A failed job is a service error whatever the findings. */
    add_job(&js, "b", JOB_FAILED, "{\"status\":\"failed\"}", NULL);
    assert_int_equal(findings_exit_status(&js, SEV_NEVER), CLI_EXIT_SERVICE);
    assert_int_equal(findings_exit_status(&js, SEV_MAJOR), CLI_EXIT_SERVICE);
    jobset_cleanup(&js);

    add_job(&js, "c", JOB_DONE, "{\"findings\":[]}", NULL);
    add_job(&js, "d", JOB_DONE, "{}", NULL);
    assert_int_equal(findings_exit_status(&js, SEV_MINOR), CLI_EXIT_OK);
    add_job(&js, "e", JOB_ERROR, NULL, NULL);
    assert_int_equal(findings_exit_status(&js, SEV_MINOR), CLI_EXIT_SERVICE);
    jobset_cleanup(&js);
}

/* Two jobs' SARIF logs sharing a rule id, with artifacts. */
static const char sarif_a[] =
    "{\"version\":\"2.1.0\",\"$schema\":\"S\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"ci\","
    "\"rules\":[{\"id\":\"F401\"},{\"id\":\"E1\"}]}},"
    "\"artifacts\":[{\"location\":{\"uri\":\"a.py\"}}],"
    "\"invocations\":[{\"executionSuccessful\":true}],"
    "\"results\":[{\"ruleId\":\"E1\",\"ruleIndex\":1,\"locations\":[{\"physicalLocation\":"
    "{\"artifactLocation\":{\"uri\":\"a.py\",\"index\":0}}}]}]}]}";
static const char sarif_b[] =
    "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"ci\","
    "\"rules\":[{\"id\":\"X9\"},{\"id\":\"F401\"}]}},"
    "\"artifacts\":[{\"location\":{\"uri\":\"b.py\"}}],"
    "\"invocations\":[{\"executionSuccessful\":false}],"
    "\"results\":[{\"ruleId\":\"F401\",\"ruleIndex\":1,\"locations\":[{\"physicalLocation\":"
    "{\"artifactLocation\":{\"uri\":\"b.py\",\"index\":0}}}]},"
    "{\"ruleId\":\"X9\",\"ruleIndex\":0},{\"ruleId\":\"Q\",\"ruleIndex\":7}]}]}";
/* ruleIndex values that are not indexes: fractional, negative, huge. */
static const char sarif_odd[] =
    "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"ci\","
    "\"rules\":[{\"id\":\"A\"},{\"id\":\"B\"}]}},"
    "\"results\":[{\"ruleIndex\":0.5},{\"ruleIndex\":-0.5},{\"ruleIndex\":1e300},"
    "{\"ruleIndex\":-1e300},{\"ruleIndex\":2},{\"ruleIndex\":1}]}]}";

static int num_at(const cJSON *o, const char *path0, int i, const char *member)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, path0), i),
                                         member);

    return cJSON_IsNumber(v) ? v->valueint : -1;
}

static void test_merge_sarif(void **state)
{
    struct jobset js = {0};
    cJSON *log, *run, *rules, *results;

    (void)state;
    add_job(&js, "a.py", JOB_DONE, NULL, sarif_a);
    add_job(&js, "x.py", JOB_ERROR, NULL, NULL);
    add_job(&js, "b.py", JOB_DONE, NULL, sarif_b);
    assert_non_null(log = merge_sarif(&js));
    assert_string_equal(cJSON_GetObjectItem(log, "version")->valuestring, "2.1.0");
    assert_string_equal(cJSON_GetObjectItem(log, "$schema")->valuestring, "S");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(log, "runs")), 1);
    run = cJSON_GetArrayItem(cJSON_GetObjectItem(log, "runs"), 0);
    rules = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "tool"), "driver"),
                                "rules");
    results = cJSON_GetObjectItem(run, "results");
    /* F401, E1 from a; X9 added; F401 of b is a's. */
    assert_int_equal(cJSON_GetArraySize(rules), 3);
    assert_string_equal(cJSON_GetArrayItem(rules, 2)->child->valuestring, "X9");
    assert_int_equal(cJSON_GetArraySize(results), 4);
    assert_int_equal(num_at(run, "results", 0, "ruleIndex"), 1);    /* E1 */
    assert_int_equal(num_at(run, "results", 1, "ruleIndex"), 0);    /* F401 */
    assert_int_equal(num_at(run, "results", 2, "ruleIndex"), 2);    /* X9 */
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(results, 3), "ruleIndex"));
    /* b's artifact index 0 is now 1. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(run, "artifacts")), 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(results, 1), "locations"), 0),
        "physicalLocation"), "artifactLocation"), "index")->valueint, 1);
    /* Every job's invocation, in order; x.py's says it did not run. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(run, "invocations")), 3);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(run,
                "invocations"), 0), "executionSuccessful")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(run,
                "invocations"), 1), "executionSuccessful")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(run,
                "invocations"), 2), "executionSuccessful")));
    cJSON_Delete(log);
    jobset_cleanup(&js);

    /* No document at all: still a valid log, empty, but not a clean one. */
    add_job(&js, "x.py", JOB_ERROR, NULL, NULL);
    snprintf(js.jobs[0].error, sizeof js.jobs[0].error, "cannot reach the service");
    assert_non_null(log = merge_sarif(&js));
    run = cJSON_GetArrayItem(cJSON_GetObjectItem(log, "runs"), 0);
    {
        const cJSON *inv = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "invocations"), 0);
        const cJSON *note = cJSON_GetArrayItem(cJSON_GetObjectItem(inv,
                                               "toolExecutionNotifications"), 0);

        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(run, "invocations")), 1);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(inv, "executionSuccessful")));
        assert_string_equal(cJSON_GetObjectItem(note, "level")->valuestring, "error");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(note, "message"),
                                                "text")->valuestring,
                            "x.py: cannot reach the service");
    }
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "tool"),
                                                                "driver"), "name")->valuestring,
                        "codeinsight");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(run, "results")), 0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(run, "results")));
    cJSON_Delete(log);
    jobset_cleanup(&js);
}

static void test_merge_sarif_odd_rule_index(void **state)
{
    struct jobset js = {0};
    const cJSON *results, *r;
    cJSON *log;
    int i = 0;

    (void)state;
    add_job(&js, "a.py", JOB_DONE, NULL, sarif_a);
    add_job(&js, "odd.py", JOB_DONE, NULL, sarif_odd);
    assert_non_null(log = merge_sarif(&js));
    results = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(log, "runs"), 0),
                                  "results");
    assert_int_equal(cJSON_GetArraySize(results), 7);
    /* a's own result, then only odd's last (B, now index 3) keeps one. */
    cJSON_ArrayForEach(r, results) {
        const cJSON *ri = cJSON_GetObjectItem(r, "ruleIndex");

        if (i == 0 || i == 6)
            assert_int_equal(ri->valueint, i == 0 ? 1 : 3);
        else
            assert_null(ri);
        i++;
    }
    cJSON_Delete(log);
    jobset_cleanup(&js);
}

static void test_merge_rdjson(void **state)
{
    struct jobset js = {0};
    cJSON *doc;

    (void)state;
    add_job(&js, "a", JOB_DONE, NULL, "{\"source\":{\"name\":\"codeinsight\",\"url\":\"u\"},"
            "\"diagnostics\":[{\"message\":\"1\"},{\"message\":\"2\"}]}");
    add_job(&js, "b", JOB_DONE, NULL, "{\"source\":{\"name\":\"other\"},"
            "\"diagnostics\":[{\"message\":\"3\"}]}");
    assert_non_null(doc = merge_rdjson(&js));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "source"), "url")->valuestring,
                        "u");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "diagnostics")), 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
                        "diagnostics"), 2), "message")->valuestring, "3");
    cJSON_Delete(doc);
    jobset_cleanup(&js);

    assert_non_null(doc = merge_rdjson(&js));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "diagnostics")), 0);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "source"), "name")->valuestring,
                        "codeinsight");
    cJSON_Delete(doc);
}

static void test_progress(void **state)
{
    struct jobset js = {0};
    struct progress p;
    char line[128], *text = NULL;
    size_t len = 0;
    FILE *out;

    (void)state;
    assert_string_equal(progress_line(line, sizeof line, "a.py", 6, JOB_RUNNING, 1.25),
                        "a.py    running  1.2s");
    assert_string_equal(progress_line(line, sizeof line, "src/deep/file.py", 10, JOB_DONE, 12),
                        "...file.py  done     12.0s");

    assert_int_equal(progress_pick(1, 1, NULL, "xterm", 50, 3), PROGRESS_OFF);
    assert_int_equal(progress_pick(0, 0, NULL, "xterm", 50, 3), PROGRESS_PLAIN);
    assert_int_equal(progress_pick(0, 1, "1", "xterm", 50, 3), PROGRESS_PLAIN);
    assert_int_equal(progress_pick(0, 1, "", "xterm", 50, 3), PROGRESS_LIVE);
    assert_int_equal(progress_pick(0, 1, NULL, "dumb", 50, 3), PROGRESS_PLAIN);
    assert_int_equal(progress_pick(0, 1, NULL, "xterm", 3, 3), PROGRESS_PLAIN);
    assert_int_equal(progress_pick(0, 1, NULL, NULL, 0, 300), PROGRESS_LIVE);

    /* Plain: one line per change, none when nothing changed. */
    add_job(&js, "a.py", JOB_QUEUED, NULL, NULL);
    js.jobs[0].started_ms = 1000;
    assert_non_null(out = open_memstream(&text, &len));
    progress_init(&p, out, PROGRESS_PLAIN);
    progress_draw(&p, &js, 1500);
    progress_draw(&p, &js, 1600);
    js.jobs[0].state = JOB_DONE;
    js.jobs[0].finished_ms = 3000;
    progress_finish(&p, &js, 9000);
    fclose(out);
    assert_string_equal(text, "a.py: queued (0.5s)\na.py: done (2.0s)\n");
    free(text);
    progress_cleanup(&p);

    /* Live: the second frame moves up over the first. */
    assert_non_null(out = open_memstream(&text, &len));
    progress_init(&p, out, PROGRESS_LIVE);
    progress_draw(&p, &js, 1500);
    progress_draw(&p, &js, 1600);
    fclose(out);
    assert_non_null(strstr(text, "\x1b[1A"));
    assert_non_null(strstr(text, "\x1b[2K"));
    assert_non_null(strstr(text, "done"));
    free(text);
    progress_cleanup(&p);
    jobset_cleanup(&js);
}

/* A window title (OSC ... BEL), clearing the screen, and CSI as a C1. */
#define EVIL "\\u001b]0;pwned\\u0007\\u001b[2J\\u009b"
#define EVIL_RAW "\x1b]0;pwned\x07\x1b[2J\xc2\x9b"
#define EVIL_SHOWN "?]0;pwned??[2J?"

static void assert_no_escape(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ||
            (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            fail_msg("control byte 0x%02x at %zu in:\n%s", *p, (size_t)((const char *)p - text),
                     text);
    }
}

/* Runs output_results for js as format fmt; *out and *err (owns) get what
 * it wrote. */
static int results(const struct jobset *js, enum cli_format fmt, char **out, char **err)
{
    struct cli_args a;
    size_t olen = 0, elen = 0;
    FILE *o = open_memstream(out, &olen), *e = open_memstream(err, &elen);
    int rc;

    assert_non_null(o);
    assert_non_null(e);
    memset(&a, 0, sizeof a);
    a.format = fmt;
    a.fail_on = SEV_NEVER;
    rc = output_results(o, e, js, &a);
    fclose(o);
    fclose(e);
    return rc;
}

/* Root cause, fix, design, errors and paths hold escape sequences: none
 * reaches the terminal, in the text format or in JSON. */
static void test_no_escape_codes(void **state)
{
    struct jobset js = {0};
    char *out, *err, line[256];
    cJSON *problem;

    (void)state;
    add_job(&js, "stats.py", JOB_DONE,
            "{\"type\":\"debug\",\"status\":\"done\",\"root_cause\":\"" EVIL "boom\","
            "\"explanation\":\"why\\r\\n" EVIL "\",\"fix\":\"x = 1\\n" EVIL "\\n\","
            "\"verification\":{\"reproduced\":true},\"verification_steps\":[\"" EVIL "\"],"
            "\"findings\":[{\"line\":1,\"severity\":\"minor\",\"message\":\"" EVIL "\","
            "\"rule_id\":\"" EVIL "\",\"source\":\"" EVIL "\"}]}", NULL);
    add_job(&js, "arch", JOB_DONE,
            "{\"type\":\"architecture\",\"status\":\"done\",\"architecture\":{"
            "\"summary\":\"" EVIL "\",\"diagram\":\"a\\n" EVIL "\","
            "\"modules\":[{\"name\":\"" EVIL "\",\"responsibility\":\"" EVIL "\"}],"
            "\"security\":[\"" EVIL "\"]}}", NULL);
    add_job(&js, "bad" EVIL_RAW ".py", JOB_FAILED, NULL, NULL);
    snprintf(js.jobs[2].error, sizeof js.jobs[2].error, "job failed: %s", EVIL_RAW);

    assert_int_equal(results(&js, FMT_TEXT, &out, &err), CLI_EXIT_SERVICE);
    assert_no_escape(out);
    assert_no_escape(err);
    assert_non_null(strstr(out, "stats.py: root cause: " EVIL_SHOWN "boom\n"));
    assert_non_null(strstr(out, "fix:\nx = 1\n" EVIL_SHOWN "\n"));
    assert_non_null(strstr(out, "why\n" EVIL_SHOWN "\n"));
    assert_non_null(strstr(out, "  - " EVIL_SHOWN ": " EVIL_SHOWN "\n"));
    assert_non_null(strstr(err, "codeinsight: bad" EVIL_SHOWN ".py: job failed: " EVIL_SHOWN
                            "\n"));
    free(out);
    free(err);

    /* JSON: the same text, escaped (C1 as \u009b, which cJSON leaves raw). */
    assert_int_equal(results(&js, FMT_JSON, &out, &err), CLI_EXIT_SERVICE);
    assert_no_escape(out);
    assert_non_null(strstr(out, "\\u001b]0;pwned\\u0007\\u001b[2J\\u009b"));
    free(out);
    free(err);

    /* A problem's code and detail. */
    assert_non_null(problem = cJSON_Parse("{\"code\":\"x" EVIL "\",\"detail\":\"" EVIL "\"}"));
    api_describe_json(400, problem, line, sizeof line);
    assert_string_equal(line, "x" EVIL_SHOWN ": " EVIL_SHOWN " (HTTP 400)");
    cJSON_Delete(problem);
    jobset_cleanup(&js);
}

/* The summary counts the files reviewed, and says how many were not (the
 * service could not be reached, the job failed): "no findings in 1 file"
 * would read as a clean file. */
static void test_summary_counts_the_files_not_reviewed(void **state)
{
    struct jobset js = {0};
    char *out, *err;

    (void)state;
    add_job(&js, "a.py", JOB_DONE, "{\"findings\":[" F(1, 1, "major", "m") "]}", NULL);
    add_job(&js, "b.py", JOB_ERROR, NULL, NULL);
    add_job(&js, "c.py", JOB_FAILED, "{\"status\":\"failed\"}", NULL);
    assert_int_equal(results(&js, FMT_TEXT, &out, &err), CLI_EXIT_SERVICE);
    assert_non_null(strstr(err, "\n1 finding (1 major) in 1 file, 2 not reviewed\n"));
    free(out);
    free(err);
    jobset_cleanup(&js);

    add_job(&js, "b.py", JOB_ERROR, NULL, NULL);
    assert_int_equal(results(&js, FMT_TEXT, &out, &err), CLI_EXIT_SERVICE);
    assert_non_null(strstr(err, "\nno findings in 0 files, 1 not reviewed\n"));
    free(out);
    free(err);
    jobset_cleanup(&js);
}

/* Progress shows paths from a diff or the service: no escape codes from
 * them, live or plain, and a cut path starts on a whole character. */
static void test_progress_no_escape_codes(void **state)
{
    struct jobset js = {0};
    struct progress p;
    char line[128], *text = NULL;
    size_t len = 0;
    FILE *out;

    (void)state;
    assert_string_equal(progress_line(line, sizeof line, "a" EVIL_RAW, 20, JOB_DONE, 1),
                        "a" EVIL_SHOWN "      done     1.0s");
    /* U+00DB is 0xc3 0x9b: cutting between the two would leave a raw 0x9b. */
    assert_string_equal(progress_line(line, sizeof line, "dir/\xc3\x9b" "bc.py", 9, JOB_DONE, 1),
                        "...bc.py  done     1.0s");
    add_job(&js, "x" EVIL_RAW, JOB_RUNNING, NULL, NULL);
    assert_non_null(out = open_memstream(&text, &len));
    progress_init(&p, out, PROGRESS_PLAIN);
    progress_draw(&p, &js, 1500);
    fclose(out);
    assert_string_equal(text, "x" EVIL_SHOWN ": running (0.0s)\n");
    free(text);
    progress_cleanup(&p);
    assert_non_null(out = open_memstream(&text, &len));
    progress_init(&p, out, PROGRESS_LIVE);
    progress_draw(&p, &js, 1500);
    fclose(out);
    assert_null(strstr(text, "pwned\x07"));
    assert_null(strstr(text, "\x1b[2J"));
    assert_non_null(strstr(text, "x" EVIL_SHOWN));
    free(text);
    progress_cleanup(&p);
    jobset_cleanup(&js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_sorted_and_counted),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_merge_sarif),
        cmocka_unit_test(test_merge_sarif_odd_rule_index),
        cmocka_unit_test(test_merge_rdjson),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_no_escape_codes),
        cmocka_unit_test(test_summary_counts_the_files_not_reviewed),
        cmocka_unit_test(test_progress_no_escape_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
