/* test_lint_lines.c - unit tests for worker/lint_lines.c: a linter that ends
 * lines at a lone "\r" too has its findings' lines and columns mapped onto
 * the service's lines, which end at "\n" alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "worker/lint_lines.h"

/* Maps the findings given as JSON for text, and checks the result (JSON). */
static void assert_mapped(const char *text, const char *findings, const char *want)
{
    struct lint_lines *m = lint_lines_new(text, strlen(text));
    cJSON *got = cJSON_Parse(findings), *w = cJSON_Parse(want);

    assert_non_null(m);
    assert_non_null(got);
    assert_non_null(w);
    lint_lines_map(m, got);
    if (!cJSON_Compare(got, w, 1)) {
        char *s = cJSON_PrintUnformatted(got);
        fail_msg("%s -> %s, want %s", findings, s, want);
    }
    cJSON_Delete(got);
    cJSON_Delete(w);
    lint_lines_free(m);
}

static void test_no_lone_cr_no_map(void **state)
{
    (void)state;
    assert_null(lint_lines_new("a\nb\n", 4));
    assert_null(lint_lines_new("a\r\nb\r\n", 6));
    assert_null(lint_lines_new("", 0));
    assert_null(lint_lines_new(NULL, 0));
    lint_lines_map(NULL, NULL);     /* nothing to do */
    lint_lines_free(NULL);
}

static void test_lone_cr_lines_map_back(void **state)
{
    /* The linter's lines: 1 "y = 1", 2 "z = 2" (after the lone "\r", 6
     * bytes into the service's line 1), 3 "import os". */
    const char *text = "y = 1\rz = 2\nimport os\n";

    (void)state;
    assert_mapped(text, "[{\"line\":3,\"column\":1},{\"line\":2,\"column\":3},{\"line\":1}]",
                  "[{\"line\":2,\"column\":1},{\"line\":1,\"column\":9},{\"line\":1}]");
    /* end_line too; a line past the text stays as far past the last one. */
    assert_mapped(text, "[{\"line\":2,\"end_line\":3},{\"line\":4,\"column\":1}]",
                  "[{\"line\":1,\"end_line\":2},{\"line\":3,\"column\":1}]");
    /* Not line numbers: left alone. */
    assert_mapped(text, "[{\"line\":0},{\"line\":-2},{\"line\":\"3\"},{}]",
                  "[{\"line\":0},{\"line\":-2},{\"line\":\"3\"},{}]");
}

static void test_mixed_line_ends(void **state)
{
    /* "\r\n" is one line end; "\r\r" two; a "\r" at the very end ends the
     * last line. Linter lines: 1 a, 2 b, 3 "" (2 bytes into the service's
     * line 2), 4 c (3 bytes in), 5 d. */
    const char *text = "a\r\nb\r\rc\nd\r";

    (void)state;
    assert_mapped(text,
                  "[{\"line\":1},{\"line\":2},{\"line\":3,\"column\":1},{\"line\":4,\"column\":2},"
                  "{\"line\":5},{\"line\":6}]",
                  "[{\"line\":1},{\"line\":2},{\"line\":2,\"column\":3},{\"line\":2,\"column\":5},"
                  "{\"line\":3},{\"line\":4}]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_lone_cr_no_map),
        cmocka_unit_test(test_lone_cr_lines_map_back),
        cmocka_unit_test(test_mixed_line_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
