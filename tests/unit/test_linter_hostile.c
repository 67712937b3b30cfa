/* test_linter_hostile.c - the linters' output parsers (worker/linter_parse_*.c,
 * through worker/linters.c's table) against what the linters print about a
 * hostile file: names quoted from it holding escapes JSON readers refuse,
 * control characters, numbers out of range, file names with ':' and
 * blanks, and output cut short by the runner's output cap. The outputs are
 * the real tools' (ESLint 9.39, flake8 5.0.4, cppcheck 2.10), trimmed to
 * the members the parsers read. Odd but harmless output is in
 * test_linter_output.c. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/linters.h"

#include "tests/unit/linters_fx.h"

/* 1 when s holds a C0 or C1 control character or DEL (U+0000..U+001F,
 * U+007F..U+009F). */
static int has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return 1;
    return 0;
}

/* Parses out with the tool of language, which must give one finding of
 * the documented shape whose message is want, without a control
 * character. */
static void check_one(const char *language, const char *tool, const char *out,
                      const char *want)
{
    cJSON *findings;

    assert_int_equal(parse_str(linter_named(language, tool), out, &findings), 1);
    check_shape(cJSON_GetArrayItem(findings, 0), tool);
    assert_string_equal(message_at(findings, 0), want);
    assert_false(has_control(want));
    cJSON_Delete(findings);
}

/* Control characters quoted from the file: C1's (U+0080..U+009F: CSI
 * U+009B is ESC [ to a terminal that honours them) were kept, as valid
 * UTF-8, though linters.h promises no control character; ESLint's
 * no-dupe-keys on {"\u009b[2J": 1, "\u009b[2J": 2} writes the character
 * itself. C0 ones and DEL, raw or escaped, were spaces already. */
static void test_control_characters(void **state)
{
    static const char eslint_out[] =
        "[{\"filePath\":\"/tmp/w/c1.js\",\"messages\":["
        "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
        "\"message\":\"Duplicate key '\xc2\x9b[2J'.\",\"line\":1,\"column\":28},"
        "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
        "\"message\":\"Duplicate key '\\u0085\\u001b]0;x\\u0007\\u009f'.\",\"line\":2}]}]";
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(linter_named("javascript", "eslint"), eslint_out, &findings), 2);
    assert_string_equal(message_at(findings, 0), "Duplicate key ' [2J'.");
    assert_string_equal(message_at(findings, 1), "Duplicate key '  ]0;x  '.");
    cJSON_Delete(findings);

    /* U+00A0, the first character past C1, is kept. */
    check_one("python", "flake8", "3:1:E501:a \xc2\x80 b \xc2\x9f\xc2\xa0" "c \x1b[0m\n",
              "a   b  \xc2\xa0" "c  [0m");
    check_one("c", "cppcheck", "a.c\t2:1:error:syntaxError:bad \xc2\x9b" "31m\xc2\x9b\n",
              "bad  31m");
}

/* ESLint's no-dupe-keys quotes a key as its value: for {"\uD800": 1,
 * "\uD800": 2} (eslint --format json on a two-line file) it writes a lone
 * surrogate's escape, which is no character; cJSON refuses the whole
 * document for it, and every other finding of the file was lost with it. */
static void test_lone_surrogate_escapes(void **state)
{
    static const char out[] =
        "[{\"filePath\":\"/tmp/w/dupkey.js\",\"messages\":["
        "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
        "\"message\":\"Duplicate key '\\ud800'.\",\"line\":1,\"column\":25,"
        "\"nodeType\":\"ObjectExpression\",\"messageId\":\"unexpected\",\"endLine\":1,"
        "\"endColumn\":33},"
        "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
        "\"message\":\"Duplicate key '\\udc00x'.\",\"line\":2,\"column\":58},"
        "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
        "\"message\":\"Duplicate key '\\uD83D\\u0041'.\",\"line\":3,\"column\":1},"
        "{\"ruleId\":\"no-eval\",\"severity\":2,"
        "\"message\":\"eval can be harmful.\",\"line\":4,\"column\":1}],"
        "\"suppressedMessages\":[],\"errorCount\":4,"
        "\"source\":\"const o = {\\\"\\\\uD800\\\": 1, \\\"\\\\uD800\\\": 2};\\n\"}]\n";
    const struct linter *eslint = linter_named("javascript", "eslint");
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(eslint, out, &findings), 4);
    /* The lone halves become U+FFFD; the rest of the text stays. */
    assert_string_equal(message_at(findings, 0), "Duplicate key '\xef\xbf\xbd'.");
    assert_string_equal(message_at(findings, 1), "Duplicate key '\xef\xbf\xbdx'.");
    assert_string_equal(message_at(findings, 2), "Duplicate key '\xef\xbf\xbd" "A'.");
    assert_string_equal(message_at(findings, 3), "eval can be harmful.");
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 3), "category"), "security");
    cJSON_Delete(findings);
}

/* What is a character stays one: a pair, and "\\ud800" (a backslash, then
 * the letters) are no lone surrogate. */
static void test_surrogate_pairs_kept(void **state)
{
    (void)state;
    check_one("shell", "shellcheck",
              "{\"comments\":[{\"code\":2034,\"line\":1,\"level\":\"warning\","
              "\"message\":\"\\ud83d\\ude00 and \\\\ud800 and \\\"\\\\\\ud83d\\ude00\"}]}",
              "\xf0\x9f\x98\x80 and \\ud800 and \"\\\xf0\x9f\x98\x80");
}

/* "\u0000" in a message: cJSON reads a NUL that ends the string, and the
 * rest of the message was dropped without a word ("Duplicate key '" for
 * ESLint's no-dupe-keys on {"\u0000z": 1, "\u0000z": 2}). It is a control
 * character, so a space, like the others. */
static void test_nul_escapes(void **state)
{
    (void)state;
    check_one("javascript", "eslint",
              "[{\"filePath\":\"/tmp/w/nul.js\",\"messages\":["
              "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
              "\"message\":\"Duplicate key '\\u0000z'.\",\"line\":1,\"column\":86}]}]",
              "Duplicate key ' z'.");
    /* An escaped backslash before "u0000" is text. */
    check_one("shell", "shellcheck",
              "{\"comments\":[{\"code\":2034,\"line\":1,"
              "\"message\":\"a \\\\u0000 \\u0000\\u0000b\"}]}",
              "a \\u0000   b");
}

/* Output the runner's cap cut (CODEINSIGHT_LINT_OUTPUT_MAX; the runner
 * still parses it, and says later findings were dropped): its last line
 * has no "\n" and may end inside a word the linter quoted from the file.
 * It was read as a whole message, so half a secret reached the model, no
 * longer matching the redaction's pattern; it is cut as an over-long line
 * is, at the blank before that word, ending in "...". */
static void test_last_line_cut_short(void **state)
{
    static const char token[] = "ghp_0123456789abcdefghij";  /* 24 of its 40 bytes */
    char out[512];
    cJSON *findings;

    (void)state;
    snprintf(out, sizeof out, "1:1:F401:'os' imported but unused\n"
                              "17:5:F821:undefined name '%s", token);
    assert_int_equal(parse_str(linter_named("python", "flake8"), out, &findings), 2);
    assert_string_equal(message_at(findings, 0), "'os' imported but unused");
    assert_string_equal(message_at(findings, 1), "undefined name...");
    cJSON_Delete(findings);

    snprintf(out, sizeof out, "a.c\t3:9:style:unreadVariable:Variable 'x' is assigned\r\n"
                              "a.c\t4:9:error:syntaxError:Unmatched '%s", token);
    assert_int_equal(parse_str(linter_named("c", "cppcheck"), out, &findings), 2);
    assert_string_equal(message_at(findings, 0), "Variable 'x' is assigned");
    assert_string_equal(message_at(findings, 1), "Unmatched...");
    cJSON_Delete(findings);

    /* A whole last line, "\n" and all, is read whole. */
    snprintf(out, sizeof out, "17:5:F821:undefined name '%s'\n", token);
    assert_int_equal(parse_str(linter_named("python", "flake8"), out, &findings), 1);
    assert_non_null(strstr(message_at(findings, 0), token));
    cJSON_Delete(findings);
}

/* cppcheck names each finding's file (a #line directive in the file can
 * name any): ':' and blanks in a name are the file's own, a tab ends it; a
 * name that is no submitted path (absolute, "..", not UTF-8) is another
 * file's, dropped, and counts for the format. A regression case: these
 * passed. */
static void test_file_names(void **state)
{
    const struct linter *cppcheck = linter_named("c", "cppcheck");
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(cppcheck,
                               "src/x:1:2:error:x.c\t3:9:error:nullPointer:Null pointer dereference: p\n"
                               "sp ace:1:2.c\t9:33:error:arrayIndexOutOfBounds:Array 'a[2]' accessed\n"
                               "\xc3\xa9 t\xc3\xa9.c\t4:1:style:constVariable:Variable 'a'\n"
                               "\xff\xfe.c\t5:1:error:nullPointer:Null pointer dereference: q\n"
                               "/etc/passwd\t7:33:error:arrayIndexOutOfBounds:x\n"
                               "../up.c\t8:1:error:nullPointer:x\n",
                               &findings),
                     3);
    assert_int_equal(int_of(cJSON_GetArrayItem(findings, 0), "line"), 3);
    assert_string_equal(message_at(findings, 0), "Null pointer dereference: p");
    assert_string_equal(str_of(cJSON_GetArrayItem(findings, 1), "category"), "security");
    assert_int_equal(int_of(cJSON_GetArrayItem(findings, 2), "line"), 4);
    cJSON_Delete(findings);
    /* Only other files' findings: none, but the output was cppcheck's. */
    assert_int_equal(parse_str(cppcheck, "\xff.c\t1:1:error:nullPointer:x\n", NULL), 0);
}

/* Checks finding i's line, column and end_line (0: absent). */
static void check_span(const cJSON *findings, int i, int line, int column, int end_line)
{
    const cJSON *f = cJSON_GetArrayItem(findings, i);

    assert_int_equal(int_of(f, "line"), line);
    if (column > 0)
        assert_int_equal(int_of(f, "column"), column);
    else
        assert_false(cJSON_HasObjectItem(f, "column"));
    if (end_line > 0)
        assert_int_equal(int_of(f, "end_line"), end_line);
    else
        assert_false(cJSON_HasObjectItem(f, "end_line"));
}

/* Line and column numbers a tool should not print: 0 and below, past
 * INT_MAX, past what a long holds, not numbers. A line is clamped to
 * [1, INT_MAX], a column dropped, a number past a long drops the line of
 * text (it is no finding). A regression case: these passed. */
static void test_numbers_out_of_range(void **state)
{
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(linter_named("python", "flake8"),
                               "0:0:E1:zero\n"
                               "2147483648:2147483648:E1:past int\n"
                               "9223372036854775808:1:E1:past long\n"
                               "1:9223372036854775808:E1:past long\n"
                               "-1:1:E1:negative\n"
                               "+1:1:E1:signed\n",
                               &findings),
                     2);
    check_span(findings, 0, 1, 0, 0);
    check_span(findings, 1, INT_MAX, 0, 0);
    cJSON_Delete(findings);

    assert_int_equal(parse_str(linter_named("python", "pylint"),
                               "[{\"message-id\":\"C0301\",\"line\":-5,\"column\":2147483647},"
                               " {\"message-id\":\"C0301\",\"line\":1e999,\"column\":2147483646,"
                               "  \"endLine\":1e300},"
                               " {\"message-id\":\"C0301\",\"line\":\"7\",\"column\":-0.0}]",
                               &findings),
                     3);
    check_span(findings, 0, 1, 0, 0);
    check_span(findings, 1, INT_MAX, INT_MAX, INT_MAX);
    check_span(findings, 2, 1, 1, 0);  /* pylint's columns count from 0 */
    cJSON_Delete(findings);

    assert_int_equal(parse_str(linter_named("javascript", "eslint"),
                               "[{\"messages\":[{\"ruleId\":\"semi\",\"line\":4294967297,"
                               "\"column\":0,\"endLine\":3}]}]",
                               &findings),
                     1);
    check_span(findings, 0, INT_MAX, 0, 0);
    cJSON_Delete(findings);
}

/* A line of a megabyte (a message quoting a minified file) costs one
 * finding of at most LINTERS_MESSAGE_MAX bytes; the next line is read as
 * usual. ESLint's findings stop at LINTERS_FINDINGS_MAX too, counted over
 * its files. A regression case: these passed. */
static void test_long_lines_and_many_findings(void **state)
{
    const size_t big = (size_t)1 << 20;
    const int many = LINTERS_FINDINGS_MAX + 100;
    char *out = malloc(big + 64);
    cJSON *findings;
    size_t n, cap;
    int i;

    (void)state;
    assert_non_null(out);
    n = (size_t)snprintf(out, 64, "1:1:E501:");
    memset(out + n, 'y', big);
    snprintf(out + n + big, 64, "\n2:1:E501:short\n");
    assert_int_equal(parse_str(linter_named("python", "flake8"), out, &findings), 2);
    assert_string_equal(message_at(findings, 0), "E501");  /* the one word, dropped */
    assert_string_equal(message_at(findings, 1), "short");
    cJSON_Delete(findings);
    free(out);

    cap = (size_t)many * 64 + 64;
    out = malloc(cap);
    assert_non_null(out);
    n = (size_t)snprintf(out, cap, "[{\"messages\":[");
    for (i = 0; i < many; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s{\"ruleId\":\"semi\",\"line\":%d}",
                              i == many / 2 ? "]},{\"messages\":[" : i > 0 ? "," : "", i + 1);
    snprintf(out + n, cap - n, "]}]");
    assert_int_equal(parse_str(linter_named("javascript", "eslint"), out, &findings),
                     LINTERS_FINDINGS_MAX);
    assert_int_equal(cJSON_GetArraySize(findings), LINTERS_FINDINGS_MAX);
    assert_int_equal(int_of(cJSON_GetArrayItem(findings, LINTERS_FINDINGS_MAX - 1), "line"),
                     LINTERS_FINDINGS_MAX);
    cJSON_Delete(findings);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_surrogate_escapes),
        cmocka_unit_test(test_surrogate_pairs_kept),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_nul_escapes),
        cmocka_unit_test(test_last_line_cut_short),
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_numbers_out_of_range),
        cmocka_unit_test(test_long_lines_and_many_findings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
