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

    assert_int_equal(parse_str(linter_named("python", "flake8"),
                               "3:1:E501:a \xc2\x80 b \xc2\x9f\xc2\xa0" "c \x1b[0m\n", &findings),
                     1);
    /* U+00A0, the first character past C1, is kept. */
    assert_string_equal(message_at(findings, 0), "a   b  \xc2\xa0" "c  [0m");
    cJSON_Delete(findings);

    assert_int_equal(parse_str(linter_named("c", "cppcheck"),
                               "a.c\t2:1:error:syntaxError:bad \xc2\x9b" "31m\xc2\x9b\n", &findings),
                     1);
    assert_string_equal(message_at(findings, 0), "bad  31m");
    assert_false(has_control(message_at(findings, 0)));
    cJSON_Delete(findings);
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
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(linter_named("shell", "shellcheck"),
                               "{\"comments\":[{\"code\":2034,\"line\":1,\"level\":\"warning\","
                               "\"message\":\"\\ud83d\\ude00 and \\\\ud800 and \\\"\\\\\\ud83d\\ude00\"}]}",
                               &findings),
                     1);
    assert_string_equal(message_at(findings, 0),
                        "\xf0\x9f\x98\x80 and \\ud800 and \"\\\xf0\x9f\x98\x80");
    cJSON_Delete(findings);
}

/* "\u0000" in a message: cJSON reads a NUL that ends the string, and the
 * rest of the message was dropped without a word ("Duplicate key '" for
 * ESLint's no-dupe-keys on {"\u0000z": 1, "\u0000z": 2}). It is a control
 * character, so a space, like the others. */
static void test_nul_escapes(void **state)
{
    cJSON *findings;

    (void)state;
    assert_int_equal(parse_str(linter_named("javascript", "eslint"),
                               "[{\"filePath\":\"/tmp/w/nul.js\",\"messages\":["
                               "{\"ruleId\":\"no-dupe-keys\",\"severity\":2,"
                               "\"message\":\"Duplicate key '\\u0000z'.\",\"line\":1,"
                               "\"column\":86}]}]",
                               &findings),
                     1);
    assert_string_equal(message_at(findings, 0), "Duplicate key ' z'.");
    cJSON_Delete(findings);
    /* An escaped backslash before "u0000" is text. */
    assert_int_equal(parse_str(linter_named("shell", "shellcheck"),
                               "{\"comments\":[{\"code\":2034,\"line\":1,"
                               "\"message\":\"a \\\\u0000 \\u0000\\u0000b\"}]}",
                               &findings),
                     1);
    assert_string_equal(message_at(findings, 0), "a \\u0000   b");
    cJSON_Delete(findings);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_surrogate_escapes),
        cmocka_unit_test(test_surrogate_pairs_kept),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_nul_escapes),
        cmocka_unit_test(test_last_line_cut_short),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
