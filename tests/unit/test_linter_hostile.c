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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_surrogate_escapes),
        cmocka_unit_test(test_surrogate_pairs_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
