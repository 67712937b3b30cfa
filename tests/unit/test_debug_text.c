/* test_debug_text.c - unit tests for worker/debug_text.c: what Debug
 * Doctor's model reads of a run and of the neighbouring files, cut to its
 * byte budgets at character boundaries (a split character made the prompt,
 * and the failure note stored from it, invalid UTF-8). Also the lint note's
 * line (worker/scratch.c, scratch_last_line), cut the same way. And the
 * code windows around a trace's frames, whatever the length of the file's
 * redacted name, and the main file's lines they show (debug_shown_lines:
 * every line counted as shown, so a finding about one never shown kept its
 * fix).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/utf8.h"
#include "worker/debug_text.h"
#include "worker/redact.h"
#include "worker/scratch.h"
#include "worker/traceback.h"

/* "Неверное значение ": 16 two-byte letters and two spaces, 34 bytes. */
#define CYRILLIC "\xd0\x9d\xd0\xb5\xd0\xb2\xd0\xb5\xd1\x80\xd0\xbd\xd0\xbe\xd0\xb5 " \
                 "\xd0\xb7\xd0\xbd\xd0\xb0\xd1\x87\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5 "

/* lead, CYRILLIC n times, then trail (owns). */
static char *cyrillic(const char *lead, int n, const char *trail)
{
    size_t unit = sizeof CYRILLIC - 1, l = strlen(lead), t = strlen(trail);
    char *s = malloc(l + unit * (size_t)n + t + 1);

    assert_non_null(s);
    memcpy(s, lead, l);
    for (int i = 0; i < n; i++)
        memcpy(s + l + unit * (size_t)i, CYRILLIC, unit);
    memcpy(s + l + unit * (size_t)n, trail, t + 1);
    return s;
}

static void assert_utf8(const char *s)
{
    size_t bad = 0;

    if (!utf8_valid(s, strlen(s), &bad))
        fail_msg("not UTF-8 at byte %zu of %zu", bad, strlen(s));
}

/* A run as sandbox.c keeps it: argv, exit, the two tails. */
static cJSON *run_json(const char *err, const char *out)
{
    cJSON *run = cJSON_CreateObject(), *argv = cJSON_AddArrayToObject(run, "argv");

    cJSON_AddItemToArray(argv, cJSON_CreateString("python3"));
    cJSON_AddItemToArray(argv, cJSON_CreateString("check.py"));
    cJSON_AddNumberToObject(run, "exit", 1);
    cJSON_AddNullToObject(run, "signal");
    cJSON_AddBoolToObject(run, "timed_out", 0);
    cJSON_AddStringToObject(run, "stderr_tail", err);
    cJSON_AddStringToObject(run, "stdout_tail", out);
    return run;
}

/* Tails longer than DEBUG_PROMPT_OUTPUT_MAX keep their end, from a whole
 * letter, whichever byte of a letter the budget falls on (one more byte at
 * the end moves it). */
static void test_run_text_tails_start_on_a_character(void **state)
{
    (void)state;
    for (int shift = 0; shift < 2; shift++) {
        char *err = cyrillic("", 200, shift ? "x" : ""), *out = cyrillic("", 150, shift ? "" : "y");
        cJSON *run = run_json(err, out);
        char *text = debug_run_text(run);
        const char *e;

        assert_true(strlen(err) > DEBUG_PROMPT_OUTPUT_MAX);
        assert_non_null(text);
        assert_utf8(text);
        assert_non_null(strstr(text, "$ python3 check.py\n(exit 1)\nstderr:\n"));
        e = strstr(text, "stderr:\n") + strlen("stderr:\n");
        assert_true(strstr(e, "\nstdout:\n") - e <= DEBUG_PROMPT_OUTPUT_MAX);
        assert_true(strstr(e, "\nstdout:\n") - e >= DEBUG_PROMPT_OUTPUT_MAX - 1);
        free(text);
        cJSON_Delete(run);
        free(err);
        free(out);
    }
}

/* A neighbouring file past the budget is cut after a whole letter. */
static void test_files_text_cuts_on_a_character(void **state)
{
    (void)state;
    for (int shift = 0; shift < 2; shift++) {
        char *big = cyrillic(shift ? "x" : "", 100, "");
        struct tb_source src[2] = {{"main.py", "", 0}, {"ru.txt", big, strlen(big)}};
        char *text = debug_files_text(src, 2, 1001);

        assert_non_null(text);
        assert_utf8(text);
        assert_non_null(strstr(text, "=== ru.txt ===\n"));
        assert_non_null(strstr(text, "[... cut]"));
        free(text);
        free(big);
    }
}

/* The lint note's line: its end within max bytes, from a whole letter, and
 * bytes that are not UTF-8 replaced. */
static void test_last_line_is_utf8(void **state)
{
    char out[128];

    (void)state;
    for (size_t max = 20; max < 24; max++) {
        char *line = cyrillic("first line\n", 3, "");

        scratch_last_line(line, strlen(line), max, out, sizeof out);
        assert_utf8(out);
        assert_true(strlen(out) <= max && strlen(out) + 1 >= max);
        assert_int_equal(memcmp(out + strlen(out) - 2, "\xb5 ", 2), 0);
        free(line);
    }
    scratch_last_line("ok\nbad \xff\xc3 end\n", 14, 40, out, sizeof out);
    assert_string_equal(out, "bad ?? end");
    scratch_last_line("tab\there\r\n", 10, 40, out, sizeof out);
    assert_string_equal(out, "tab here");
}

/* A file_path the gateway accepts (relative, <= 1024 bytes) made of short
 * Slack-token-shaped segments: redaction turns each 15-byte token into the
 * 22-byte "[REDACTED:slack_token]", so the path the model is shown grows to
 * some 1,450 bytes. */
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

/* Eight windows each headed by a 1,450-byte name: the buffer was sized as
 * 1,200 bytes a window plus its code, and the would-be lengths snprintf
 * returned were added up, so the eighth window was written past its end
 * (a heap overflow under ASan, found by an audit). */
static void test_windows_text_long_redacted_path(void **state)
{
    char path[1100], code[200 * 2 + 1], *text;
    struct redact_result rp;
    struct tb_source src;
    cJSON *tb, *frames, *w;
    size_t n = tokens_path(path, sizeof path), cl = 0;
    int heads = 0;

    (void)state;
    assert_true(n <= 1024);
    assert_int_equal(redact_text(path, n, &rp), 0);
    assert_true(rp.len > 1300);
    for (int i = 0; i < 200; i++)
        cl += (size_t)snprintf(code + cl, sizeof code - cl, "a\n");
    src.path = rp.text;
    src.text = code;
    src.len = cl;
    tb = cJSON_CreateObject();
    frames = cJSON_AddArrayToObject(tb, "frames");
    for (int i = 0; i < 8; i++) {       /* 20 lines apart: 8 separate windows */
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "file", "app.py");      /* maps by its base name */
        cJSON_AddNumberToObject(f, "line", 10 + 20 * i);
        cJSON_AddItemToArray(frames, f);
    }
    w = debug_windows(tb, &src, 1);
    text = debug_windows_text(w);
    cJSON_Delete(w);
    assert_non_null(text);
    for (const char *p = text; (p = strstr(p, "--- [REDACTED:")) != NULL; p++)
        heads++;
    assert_int_equal(heads, 8);
    assert_non_null(strstr(text, "(around line 150)\n"));
    free(text);
    cJSON_Delete(tb);
    redact_result_cleanup(&rp);
}

/* A trace of frames "file:line", innermost first (owns). */
static cJSON *trace_of(const char *const *file, const int *line, int n)
{
    cJSON *tb = cJSON_CreateObject(), *frames = cJSON_AddArrayToObject(tb, "frames");

    assert_non_null(frames);
    for (int i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "file", file[i]);
        cJSON_AddNumberToObject(f, "line", line[i]);
        cJSON_AddItemToArray(frames, f);
    }
    return tb;
}

/* Asserts that debug_shown_lines gives want (JSON text). */
static void assert_shown(const cJSON *tb, const struct tb_source *src, int nsrc,
                         const cJSON *excerpt, const char *want)
{
    cJSON *w = debug_windows(tb, src, nsrc);
    cJSON *got = debug_shown_lines(w, excerpt);
    char *text = cJSON_PrintUnformatted(got);

    cJSON_Delete(w);

    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
    cJSON_Delete(got);
}

/* The windows replace the excerpt in the prompt: the main file's windows
 * are what it shows of that file, a neighbour's are not its lines (its
 * line 20 lies in the main file's unshown 19..51), and the excerpt counts
 * only when no window is shown. */
static void test_shown_lines_are_the_main_file_windows(void **state)
{
    static const char *const files[] = {"main.py", "util.py", "main.py"};
    static const int lines[] = {60, 20, 10};
    char main_text[80 * 3 + 1], util_text[30 * 3 + 1];
    struct tb_source src[2] = {{"main.py", main_text, 0}, {"util.py", util_text, 0}};
    cJSON *excerpt = cJSON_Parse("[[40,80]]"), *tb = trace_of(files, lines, 3);
    cJSON *util_only = trace_of(files + 1, lines + 1, 1), *none = trace_of(files, lines, 0);

    (void)state;
    for (int i = 0; i < 80; i++)
        src[0].len += (size_t)snprintf(main_text + src[0].len, 4, "x\n");
    for (int i = 0; i < 30; i++)
        src[1].len += (size_t)snprintf(util_text + src[1].len, 4, "y\n");
    assert_shown(tb, src, 2, excerpt, "[[52,68],[2,18]]");
    /* Only a neighbour's window: no line of the main file is shown. */
    assert_shown(util_only, src, 2, excerpt, "[]");
    /* No window: the excerpt is shown. */
    assert_shown(none, src, 2, excerpt, "[[40,80]]");
    assert_shown(tb, src, 0, excerpt, "[[40,80]]");
    cJSON_Delete(excerpt);
    cJSON_Delete(tb);
    cJSON_Delete(util_only);
    cJSON_Delete(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_text_tails_start_on_a_character),
        cmocka_unit_test(test_files_text_cuts_on_a_character),
        cmocka_unit_test(test_last_line_is_utf8),
        cmocka_unit_test(test_windows_text_long_redacted_path),
        cmocka_unit_test(test_shown_lines_are_the_main_file_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
