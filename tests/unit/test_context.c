/* test_context.c - unit tests for worker/context.c: which lines the model
 * sees, how they are numbered, and that reviewed + skipped ranges always
 * cover the file exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/context.h"
#include "tests/unit/ranges.h"

/* Compact JSON of a ranges array, e.g. "[[1,4],[9,12]]"; owns. */
static char *ranges_str(const cJSON *r)
{
    char *s = cJSON_PrintUnformatted(r);

    assert_non_null(s);
    return s;
}

static void assert_ranges(const cJSON *r, const char *want)
{
    char *s = ranges_str(r);

    if (strcmp(s, want) != 0) {
        print_error("ranges %s, want %s\n", s, want);
        free(s);
        fail();
    }
    free(s);
}

static void assert_cover(const struct context_result *res)
{
    assert_ranges_cover(res->reviewed_ranges, res->skipped_ranges, res->total_lines);
}

static void build(const char *text, const char *diff, size_t budget, struct context_result *res)
{
    struct context_input in = {0};

    in.text = text;
    in.len = strlen(text);
    in.diff = diff;
    in.budget_bytes = budget;
    assert_int_equal(context_build(&in, res), 0);
    assert_true(res->code_len <= budget);
    assert_int_equal(strlen(res->code), res->code_len);
    assert_non_null(res->lint_summary);
    assert_cover(res);
}

/* "line 1\nline 2\n..." with n lines; owns. */
static char *numbered_file(long n)
{
    size_t cap = (size_t)n * 16 + 1, len = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    s[0] = '\0';
    for (long i = 1; i <= n; i++)
        len += (size_t)snprintf(s + len, cap - len, "line %ld\n", i);
    return s;
}

/* Exactly n lines of "abcdefghij". */
static char *fixed_file(long n)
{
    char *s = malloc((size_t)n * 11 + 1);

    assert_non_null(s);
    for (long i = 0; i < n; i++)
        memcpy(s + i * 11, "abcdefghij\n", 11);
    s[n * 11] = '\0';
    return s;
}

static void test_small_file_whole(void **state)
{
    struct context_result res;

    (void)state;
    build("int a;\n\nint b;\n", NULL, 4096, &res);
    assert_string_equal(res.code, "1\tint a;\n\n3\tint b;\n");   /* blank: unnumbered */
    assert_int_equal(res.total_lines, 3);
    assert_ranges(res.reviewed_ranges, "[[1,3]]");
    assert_ranges(res.skipped_ranges, "[]");
    assert_string_equal(res.lint_summary, "");
    context_result_cleanup(&res);
    context_result_cleanup(&res);   /* safe twice: zeroed */
}

static void test_large_file_small_budget(void **state)
{
    struct context_result res;
    char *text = fixed_file(20000);

    (void)state;
    /* "1\tabcdefghij\n" is 13 bytes, "10\t..." 14, "100\t..." 15: lines
     * 1..100 take 9 * 13 + 90 * 14 + 15 = 1392 bytes, line 101 15 more. */
    build(text, NULL, 1392 + 14, &res);
    assert_int_equal(res.total_lines, 20000);
    assert_int_equal(res.code_len, 1392);
    assert_ranges(res.reviewed_ranges, "[[1,100]]");
    assert_ranges(res.skipped_ranges, "[[101,20000]]");
    assert_memory_equal(res.code, "1\tabcdefghij\n2\tabcdefghij\n", 26);
    assert_string_equal(res.code + 1392 - 15, "100\tabcdefghij\n");
    context_result_cleanup(&res);

    /* Exactly fitting budget. */
    build(text, NULL, 1392, &res);
    assert_ranges(res.reviewed_ranges, "[[1,100]]");
    context_result_cleanup(&res);

    /* Big enough for everything. */
    build(text, NULL, (size_t)20000 * 18, &res);
    assert_ranges(res.reviewed_ranges, "[[1,20000]]");
    assert_ranges(res.skipped_ranges, "[]");
    context_result_cleanup(&res);
    free(text);
}

static void test_zero_budget(void **state)
{
    struct context_result res;

    (void)state;
    build("a\nb\n", NULL, 0, &res);
    assert_string_equal(res.code, "");
    assert_ranges(res.reviewed_ranges, "[]");
    assert_ranges(res.skipped_ranges, "[[1,2]]");
    context_result_cleanup(&res);
}

static void test_diff_hunks(void **state)
{
    struct context_result res;
    char *text = numbered_file(100);
    /* Two hunks: new lines 10..13 and 60..60 (a pure addition at 60). */
    const char *diff =
        "--- a/f.txt\n"
        "+++ b/f.txt\n"
        "@@ -10,3 +10,4 @@ fn\n"
        " line 10\n"
        "+line 11\n"
        " line 12\n"
        " line 13\n"
        "@@ -58,0 +60 @@\n"
        "+line 60\n";

    (void)state;
    build(text, diff, 1 << 20, &res);
    assert_int_equal(res.total_lines, 100);
    assert_ranges(res.reviewed_ranges, "[[5,18],[55,65]]");
    assert_ranges(res.skipped_ranges, "[[1,4],[19,54],[66,100]]");
    assert_non_null(strstr(res.code, "5\tline 5\n"));
    assert_non_null(strstr(res.code, "18\tline 18\n...\n55\tline 55\n"));
    assert_null(strstr(res.code, "|line 4\n"));
    assert_null(strstr(res.code, "|line 19\n"));
    assert_int_equal(strncmp(res.code, "5\tline 5\n", 9), 0);
    assert_string_equal(res.code + res.code_len - 11, "65\tline 65\n");
    context_result_cleanup(&res);
    free(text);
}

static void test_diff_hunks_merge_and_clip(void **state)
{
    struct context_result res;
    char *text = numbered_file(30);
    /* Windows [1,8] and [6,30] overlap: one range, no "..." line. Hunk
     * bodies use git's blank context lines and CRLF endings. */
    const char *diff =
        "diff --git a/f b/f\r\n"
        "index 1..2 100644\r\n"
        "@@ -1,2 +1,3 @@\r\n"
        "+line 1\r\n"
        " line 2\r\n"
        "\r\n"
        "@@ -20,2 +11,20 @@\r\n"
        "-gone\r\n"
        "-gone\r\n"
        "+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n+x\n"
        "\\ No newline at end of file\n";

    (void)state;
    build(text, diff, 1 << 20, &res);
    assert_ranges(res.reviewed_ranges, "[[1,30]]");
    assert_null(strstr(res.code, "..."));
    context_result_cleanup(&res);
    free(text);
}

static void test_diff_with_budget(void **state)
{
    struct context_result res;
    char *text = numbered_file(100);
    const char *diff = "@@ -50 +50 @@\n-old\n+line 50\n@@ -90 +90 @@\n-old\n+line 90\n";

    (void)state;
    /* The first window [45,55]: 11 lines of "NN|line NN\n" (11 bytes)
     * = 121 bytes; the second does not fit. */
    build(text, diff, 121 + 4 + 10, &res);
    assert_ranges(res.reviewed_ranges, "[[45,55]]");
    assert_ranges(res.skipped_ranges, "[[1,44],[56,100]]");
    assert_null(strstr(res.code, "..."));
    context_result_cleanup(&res);

    /* Room for the separator and two lines of the second window. */
    build(text, diff, 121 + 4 + 11 * 2, &res);
    assert_ranges(res.reviewed_ranges, "[[45,55],[85,86]]");
    assert_ranges(res.skipped_ranges, "[[1,44],[56,84],[87,100]]");
    assert_non_null(strstr(res.code, "55\tline 55\n...\n85\tline 85\n86\tline 86\n"));
    context_result_cleanup(&res);
    free(text);
}

static void test_malformed_diff_whole_file(void **state)
{
    static const char *const bad[] = {
        "this is not a diff\n",                             /* no hunk */
        "@@ -1,2 +1,2 @@\n line 1\n",                       /* body too short */
        "@@ -1 +1 @@\n-a\n+b\n+c\n",                        /* body too long */
        "@@ -1 +1 @@\n-a\n+b\n-c\n",                        /* likewise */
        "@@ -1 +x @@\n-a\n+b\n",                            /* bad header */
        "@@ -1,1 +1,1\n-a\n+b\n",                           /* header not closed */
        "@@ -1 +999 @@\n-a\n+b\n",                          /* past the end */
        "@@ -1 +1 @@\n-a\n*b\n",                            /* bad body line */
        "+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+++ b/y\n@@ -2 +2 @@\n-a\n+b\n", /* two files */
        "@@ -1,0 +1,0 @@\n",                                /* empty hunk */
        "@@ -99999999999999999999 +1 @@\n-a\n+b\n",         /* overflow */
    };
    struct context_result res;
    char *text = numbered_file(50);

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct context_input in = {0};
        in.text = text;
        in.len = strlen(text);
        in.diff = bad[i];
        in.has_cursor = 1;          /* ignored with a malformed diff */
        in.cursor_line = 40;
        in.cursor_end_line = 40;
        in.budget_bytes = 1 << 20;
        assert_int_equal(context_build(&in, &res), 0);
        assert_cover(&res);
        {
            char *s = ranges_str(res.reviewed_ranges);
            if (strcmp(s, "[[1,50]]") != 0)
                fail_msg("diff %zu: reviewed %s", i, s);
            free(s);
        }
        context_result_cleanup(&res);
    }
    free(text);
}

static void test_deletion_hunk(void **state)
{
    struct context_result res;
    char *text = numbered_file(40);

    (void)state;
    /* Lines removed after new line 20: window 15..26. */
    build(text, "@@ -21,2 +20,0 @@\n-a\n-b\n", 1 << 20, &res);
    assert_ranges(res.reviewed_ranges, "[[15,26]]");
    context_result_cleanup(&res);
    /* Removed at the very top: "+0,0". */
    build(text, "@@ -1,2 +0,0 @@\n-a\n-b\n", 1 << 20, &res);
    assert_ranges(res.reviewed_ranges, "[[1,6]]");
    context_result_cleanup(&res);    free(text);
}

static void test_cursor_window(void **state)
{
    struct context_input in = {0};
    struct context_result res;
    char *text = numbered_file(200);

    (void)state;
    in.text = text;
    in.len = strlen(text);
    in.has_cursor = 1;
    in.cursor_line = 100;
    in.cursor_end_line = 102;
    in.budget_bytes = 1 << 20;
    assert_int_equal(context_build(&in, &res), 0);
    assert_cover(&res);
    assert_ranges(res.reviewed_ranges, "[[80,122]]");
    assert_ranges(res.skipped_ranges, "[[1,79],[123,200]]");
    assert_int_equal(strncmp(res.code, "80\tline 80\n", 11), 0);
    context_result_cleanup(&res);

    /* Near the top, end before start, clipped. */
    in.cursor_line = 3;
    in.cursor_end_line = 0;
    assert_int_equal(context_build(&in, &res), 0);
    assert_ranges(res.reviewed_ranges, "[[1,23]]");
    context_result_cleanup(&res);

    /* Near the end. */
    in.cursor_line = 195;
    in.cursor_end_line = 250;
    assert_int_equal(context_build(&in, &res), 0);
    assert_ranges(res.reviewed_ranges, "[[175,200]]");
    context_result_cleanup(&res);

    /* Past the end: whole file. */
    in.cursor_line = 500;
    in.cursor_end_line = 500;
    assert_int_equal(context_build(&in, &res), 0);
    assert_ranges(res.reviewed_ranges, "[[1,200]]");
    context_result_cleanup(&res);

    /* Cursor and diff: both windows. */
    in.cursor_line = 150;
    in.cursor_end_line = 150;
    in.diff = "@@ -10 +10 @@\n-x\n+line 10\n";
    assert_int_equal(context_build(&in, &res), 0);
    assert_ranges(res.reviewed_ranges, "[[5,15],[130,170]]");
    assert_cover(&res);
    context_result_cleanup(&res);
    free(text);
}

static void test_crlf_and_no_trailing_newline(void **state)
{
    struct context_result res;

    (void)state;
    build("a\r\nb\r\n\r\nc", NULL, 4096, &res);
    assert_int_equal(res.total_lines, 4);
    assert_string_equal(res.code, "1\ta\n2\tb\n\n4\tc\n");
    assert_ranges(res.reviewed_ranges, "[[1,4]]");
    context_result_cleanup(&res);

    build("only", NULL, 4096, &res);
    assert_int_equal(res.total_lines, 1);
    assert_string_equal(res.code, "1\tonly\n");
    context_result_cleanup(&res);

    build("\n", NULL, 4096, &res);
    assert_int_equal(res.total_lines, 1);
    assert_string_equal(res.code, "\n");          /* blank lines are unnumbered */
    context_result_cleanup(&res);
}

/* A line that only closes a block goes unnumbered like a blank one; a line
 * with anything else on it keeps its number. The budget counts the shorter
 * form. */
static void test_closing_lines_unnumbered(void **state)
{
    static const struct {
        const char *text;
        size_t budget;
        const char *code, *skipped;
    } cases[] = {
        {"int f(void) {\n\treturn g(1,\n\t       2);\n}\n", 4096,
         "1\tint f(void) {\n2\t\treturn g(1,\n3\t\t       2);\n}\n", "[]"},
        {"x = [\n  1,\n  ],\n  });  \n\t)\nend\n  fi\ndone\nesac\n", 4096,
         "1\tx = [\n2\t  1,\n  ],\n  });  \n\t)\nend\n  fi\ndone\nesac\n", "[]"},
        /* Not closers: other text, no bracket, keywords with more on the line. */
        {"} else {\n;\n,\nend if\nfinal\n}x\n", 4096,
         "1\t} else {\n2\t;\n3\t,\n4\tend if\n5\tfinal\n6\t}x\n", "[]"},
        {"a\n}\n", 6, "1\ta\n}\n", "[]"},              /* 6 bytes: all of it */
        {"a\n}\n", 5, "1\ta\n", "[[2,2]]"},
    };
    struct context_result res;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build(cases[i].text, NULL, cases[i].budget, &res);
        assert_string_equal(res.code, cases[i].code);
        assert_ranges(res.skipped_ranges, cases[i].skipped);
        context_result_cleanup(&res);
    }
}

static void test_empty_file(void **state)
{
    struct context_result res;
    struct context_input in = {0};

    (void)state;
    build("", NULL, 4096, &res);
    assert_int_equal(res.total_lines, 0);
    assert_string_equal(res.code, "");
    assert_ranges(res.reviewed_ranges, "[]");
    assert_ranges(res.skipped_ranges, "[]");
    context_result_cleanup(&res);

    /* NULL text, a diff and a cursor: still empty, no crash. */
    in.diff = "@@ -1 +1 @@\n-a\n+b\n";
    in.has_cursor = 1;
    in.cursor_line = 1;
    in.budget_bytes = 100;
    assert_int_equal(context_build(&in, &res), 0);
    assert_int_equal(res.total_lines, 0);
    assert_ranges(res.reviewed_ranges, "[]");
    context_result_cleanup(&res);
}

static void test_long_line_cut(void **state)
{
    struct context_result res;
    size_t n = CONTEXT_LINE_MAX + 500;
    char *text = malloc(n + 8);

    (void)state;
    assert_non_null(text);
    /* 'a' * (MAX-1) then a 2-byte character straddling the cut. */
    memset(text, 'a', n);
    memcpy(text + CONTEXT_LINE_MAX - 1, "\xc3\xa9", 2);
    memcpy(text + n, "\nb\n", 4);
    build(text, NULL, 1 << 20, &res);
    assert_int_equal(res.total_lines, 2);
    /* "1\t" + 999 'a' (the é does not fit whole) + " [...]\n" */
    assert_int_equal(strchr(res.code, '\n') - res.code, 2 + CONTEXT_LINE_MAX - 1 + 6);
    assert_non_null(strstr(res.code, "a [...]\n2\tb\n"));
    context_result_cleanup(&res);
    free(text);
}

static cJSON *finding(int line, const char *rule, const char *sev, const char *msg)
{
    cJSON *f = cJSON_CreateObject();

    assert_non_null(f);
    cJSON_AddNumberToObject(f, "line", line);
    cJSON_AddStringToObject(f, "rule_id", rule);
    cJSON_AddStringToObject(f, "severity", sev);
    cJSON_AddStringToObject(f, "category", "style");
    cJSON_AddStringToObject(f, "message", msg);
    cJSON_AddStringToObject(f, "source", "lint:test");
    return f;
}

static void test_lint_summary(void **state)
{
    struct context_input in = {0};
    struct context_result res;
    char *text = numbered_file(100);
    cJSON *lint = cJSON_CreateArray();
    char longmsg[400];
    const char *p;
    int lines = 0;

    (void)state;
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    cJSON_AddItemToArray(lint, finding(7, "W1", "minor", "minor thing"));
    cJSON_AddItemToArray(lint, finding(3, "E1", "critical", "bad\nthing"));
    cJSON_AddItemToArray(lint, finding(90, "X9", "critical", "outside the window"));
    cJSON_AddItemToArray(lint, finding(2, "I1", "minor", longmsg));
    cJSON_AddItemToArray(lint, finding(5, "M1", "major", "major thing"));
    cJSON_AddItemToArray(lint, finding(4, "C1", "info", "a convention"));
    cJSON_AddItemToArray(lint, cJSON_CreateString("not an object"));
    /* Identical findings on several lines: one summary line. */
    for (int i = 0; i < 3; i++)
        cJSON_AddItemToArray(lint, finding(9 - 3 * i, "G", "minor", "same words"));
    cJSON_AddItemToArray(lint, finding(6, "G", "minor", "other words"));
    cJSON_AddItemToArray(lint, finding(6, "G", "major", "same words"));
    for (int i = 0; i < 60; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "filler %d", i);
        cJSON_AddItemToArray(lint, finding(10 + i % 5, "Z", "minor", msg));
    }
    in.text = text;
    in.len = strlen(text);
    in.has_cursor = 1;
    in.cursor_line = 1;
    in.cursor_end_line = 1;             /* window 1..21 */
    in.lint_findings = lint;
    in.budget_bytes = 1 << 20;
    assert_int_equal(context_build(&in, &res), 0);
    p = "L3 E1 critical: bad thing\n"
        "L5 M1 major: major thing\n"
        "L6 G major: same words\n"
        "L2 I1 minor: mmm";
    assert_int_equal(strncmp(res.lint_summary, p, strlen(p)), 0);
    assert_non_null(strstr(res.lint_summary, "L7 W1 minor: minor thing\n"));
    assert_null(strstr(res.lint_summary, "outside"));
    /* Info-level lint is left out: the model is told not to repeat it. */
    assert_null(strstr(res.lint_summary, "C1"));
    assert_non_null(strstr(res.lint_summary, "\nL3,6,9 G minor: same words\n"));
    assert_non_null(strstr(res.lint_summary, "\nL6 G minor: other words\n"));
    for (p = res.lint_summary; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, CONTEXT_LINT_MAX);
    /* "L2 I1 info: " + message cut to CONTEXT_LINT_MSG_MAX ending in "..." */
    p = strstr(res.lint_summary, "L2 I1 minor: ");
    assert_non_null(p);
    p += strlen("L2 I1 minor: ");
    assert_int_equal(strchr(p, '\n') - p, CONTEXT_LINT_MSG_MAX);
    assert_memory_equal(p + CONTEXT_LINT_MSG_MAX - 3, "...", 3);
    context_result_cleanup(&res);
    cJSON_Delete(lint);
    free(text);
}

/* The summary line of a finding with message msg (the only finding). */
static char *summary_of(const char *msg)
{
    struct context_input in = {0};
    struct context_result res;
    char *text = numbered_file(3), *line;
    cJSON *lint = cJSON_CreateArray();

    cJSON_AddItemToArray(lint, finding(2, "W0707", "minor", msg));
    in.text = text;
    in.len = strlen(text);
    in.lint_findings = lint;
    in.budget_bytes = 1 << 20;
    assert_int_equal(context_build(&in, &res), 0);
    line = strdup(res.lint_summary);
    assert_non_null(line);
    context_result_cleanup(&res);
    cJSON_Delete(lint);
    free(text);
    return line;
}

static void test_lint_message_cut_keeps_name(void **state)
{
    char msg[400];
    const char *head = "L2 W0707 minor: ";
    char *line;
    size_t n;

    (void)state;
    /* A long pylint message ending in its readable name keeps the name. */
    memset(msg, 'q', 300);
    snprintf(msg + 300, sizeof msg - 300, " (raise-missing-from)");
    line = summary_of(msg);
    n = strlen(line);
    assert_int_equal(strncmp(line, head, strlen(head)), 0);
    assert_int_equal(n - 1 - strlen(head), CONTEXT_LINT_MSG_MAX);
    assert_string_equal(line + n - strlen("qq... (raise-missing-from)\n"),
                        "qq... (raise-missing-from)\n");
    free(line);
    /* A short message is left whole, its name too. */
    line = summary_of("Using open without an encoding (unspecified-encoding)");
    assert_string_equal(line, "L2 W0707 minor: Using open without an encoding "
                              "(unspecified-encoding)\n");
    free(line);
    /* Parentheses holding more than a name are cut like any text. */
    memset(msg, 'q', 300);
    snprintf(msg + 300, sizeof msg - 300, " (see the manual)");
    line = summary_of(msg);
    n = strlen(line);
    assert_int_equal(n - 1 - strlen(head), CONTEXT_LINT_MSG_MAX);
    assert_string_equal(line + n - 5, "q...\n");
    free(line);
    /* A "name" longer than CONTEXT_LINT_TAG_MAX is not kept. */
    memset(msg, 'q', 300);
    msg[150] = ' ';
    msg[151] = '(';
    msg[299] = ')';
    msg[300] = '\0';
    line = summary_of(msg);
    n = strlen(line);
    assert_string_equal(line + n - 5, "q...\n");
    free(line);
}

static void test_lint_groups_capped(void **state)
{
    struct context_input in = {0};
    struct context_result res;
    char *text = numbered_file(40);
    cJSON *lint = cJSON_CreateArray();
    char want[256];
    int k = 0;

    (void)state;
    for (int i = 20; i >= 1; i--)
        cJSON_AddItemToArray(lint, finding(i, "H", "minor", "many"));
    cJSON_AddItemToArray(lint, finding(5, "H", "minor", "many"));   /* same line twice */
    in.text = text;
    in.len = strlen(text);
    in.lint_findings = lint;
    in.budget_bytes = 1 << 20;
    assert_int_equal(context_build(&in, &res), 0);
    k += snprintf(want + k, sizeof want - (size_t)k, "L1");
    for (int i = 2; i <= CONTEXT_LINT_GROUP_MAX; i++)
        k += snprintf(want + k, sizeof want - (size_t)k, ",%d", i);
    k += snprintf(want + k, sizeof want - (size_t)k, " H minor: many\nL%d",
                  CONTEXT_LINT_GROUP_MAX + 1);
    for (int i = CONTEXT_LINT_GROUP_MAX + 2; i <= 20; i++)
        k += snprintf(want + k, sizeof want - (size_t)k, ",%d", i);
    snprintf(want + k, sizeof want - (size_t)k, " H minor: many\n");
    assert_string_equal(res.lint_summary, want);
    context_result_cleanup(&res);
    cJSON_Delete(lint);
    free(text);
}

/* Asserts context_lines_note's text for shown (JSON) of a total-line file. */
static void assert_lines_note(const char *shown, long total, size_t cap, const char *want)
{
    cJSON *j = shown != NULL ? cJSON_Parse(shown) : NULL;
    char out[128];

    assert_true(cap <= sizeof out);
    memset(out, 'x', sizeof out);
    context_lines_note(j, total, out, cap);
    assert_string_equal(out, want);
    if (cap < sizeof out)
        assert_int_equal(out[cap], 'x');    /* nothing written past cap */
    cJSON_Delete(j);
}

static void test_ranges_notes(void **state)
{
    struct context_result res;
    char *text = fixed_file(20000), note[128];

    (void)state;
    build(text, NULL, 1392 + 14, &res);
    context_ranges_note(&res, note, sizeof note);
    assert_string_equal(note, "only lines 1-100 of 20000 are shown");
    context_result_cleanup(&res);
    build(text, NULL, (size_t)20000 * 18, &res);
    context_ranges_note(&res, note, sizeof note);
    assert_string_equal(note, "");
    context_result_cleanup(&res);
    free(text);

    /* Any ranges, as Debug Doctor's windows give them: out of order and
     * overlapping; whole only when every line is in one. */
    assert_lines_note("[[12,20],[3,9]]", 40, 128, "only lines 12-20, 3-9 of 40 are shown");
    assert_lines_note("[[1,20],[15,40]]", 40, 128, "");
    assert_lines_note("[[1,10],[12,40],[5,11]]", 40, 128, "");
    assert_lines_note("[[1,10],[12,40],[1,10]]", 40, 128,
                      "only lines 1-10, 12-40, 1-10 of 40 are shown");
    assert_lines_note("[]", 40, 128, "none of its 40 lines are shown");
    assert_lines_note(NULL, 40, 128, "none of its 40 lines are shown");
    assert_lines_note("[]", 0, 128, "");
    /* A small buffer cuts the note, never past it. */
    assert_lines_note("[[12,20],[3,9]]", 40, 16, "only lines 12-2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_file_whole),
        cmocka_unit_test(test_closing_lines_unnumbered),
        cmocka_unit_test(test_large_file_small_budget),
        cmocka_unit_test(test_zero_budget),
        cmocka_unit_test(test_diff_hunks),
        cmocka_unit_test(test_diff_hunks_merge_and_clip),
        cmocka_unit_test(test_diff_with_budget),
        cmocka_unit_test(test_malformed_diff_whole_file),
        cmocka_unit_test(test_deletion_hunk),
        cmocka_unit_test(test_cursor_window),
        cmocka_unit_test(test_crlf_and_no_trailing_newline),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_long_line_cut),
        cmocka_unit_test(test_lint_summary),
        cmocka_unit_test(test_lint_message_cut_keeps_name),
        cmocka_unit_test(test_lint_groups_capped),
        cmocka_unit_test(test_ranges_notes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
