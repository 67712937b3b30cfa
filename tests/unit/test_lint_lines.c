/* test_lint_lines.c - unit tests for worker/lint_lines.c: a linter that ends
 * lines at a lone "\r" too has its findings' lines and columns mapped onto
 * the service's lines, which end at "\n" alone; lines past the file's last
 * become the last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "worker/lint_lines.h"

/* Maps the findings given as JSON for text (cr: a lone "\r" ends the
 * linter's lines), and checks the result (JSON). */
static void assert_mapped(const char *text, int cr, const char *findings, const char *want)
{
    struct lint_lines *m = lint_lines_new(text, strlen(text));
    cJSON *got = cJSON_Parse(findings), *w = cJSON_Parse(want);

    assert_non_null(m);
    assert_non_null(got);
    assert_non_null(w);
    lint_lines_map(m, cr, got);
    if (!cJSON_Compare(got, w, 1)) {
        char *s = cJSON_PrintUnformatted(got);
        fail_msg("%s -> %s, want %s", findings, s, want);
    }
    cJSON_Delete(got);
    cJSON_Delete(w);
    lint_lines_free(m);
}

static void test_plain_lines_unchanged(void **state)
{
    static const char f[] = "[{\"line\":1,\"column\":4},{\"line\":2,\"end_line\":2}]";

    (void)state;
    assert_mapped("a\nb\n", 1, f, f);
    assert_mapped("a\r\nb\r\n", 1, f, f);
    assert_mapped("a\nb", 0, f, f);
    lint_lines_map(NULL, 1, NULL);  /* nothing to do */
    lint_lines_free(NULL);
}

static void test_lines_past_the_end(void **state)
{
    /* shellcheck's SC1072 on line 2 of a 1-line script: the last line,
     * without the column past the text; end_line too. */
    (void)state;
    assert_mapped("echo 'a\n", 0, "[{\"line\":2,\"column\":1,\"end_line\":2}]",
                  "[{\"line\":1,\"end_line\":1}]");
    assert_mapped("a\nb\n", 0, "[{\"line\":1,\"column\":2,\"end_line\":9}]",
                  "[{\"line\":1,\"column\":2,\"end_line\":2}]");
    /* An empty file has one line; a last line without "\n" is one. */
    assert_mapped("", 1, "[{\"line\":3}]", "[{\"line\":1}]");
    assert_mapped("a\n\nb", 0, "[{\"line\":3},{\"line\":4}]",
                  "[{\"line\":3},{\"line\":3}]");
    /* Not line numbers: left alone. */
    assert_mapped("a\n", 0, "[{\"line\":0},{\"line\":-2},{\"line\":\"3\"},{}]",
                  "[{\"line\":0},{\"line\":-2},{\"line\":\"3\"},{}]");
}

static void test_lone_cr_lines_map_back(void **state)
{
    /* The linter's lines: 1 "y = 1", 2 "z = 2" (after the lone "\r", 6
     * bytes into the service's line 1), 3 "import os". */
    const char *text = "y = 1\rz = 2\nimport os\n";

    (void)state;
    assert_mapped(text, 1,
                  "[{\"line\":3,\"column\":1},{\"line\":2,\"column\":3},{\"line\":1}]",
                  "[{\"line\":2,\"column\":1},{\"line\":1,\"column\":9},{\"line\":1}]");
    assert_mapped(text, 1, "[{\"line\":2,\"end_line\":3},{\"line\":4,\"column\":1}]",
                  "[{\"line\":1,\"end_line\":2},{\"line\":2}]");
    /* A tool that reads "\r" as a character (shellcheck) is not mapped. */
    assert_mapped(text, 0, "[{\"line\":2,\"column\":3}]", "[{\"line\":2,\"column\":3}]");
}

static void test_mixed_line_ends(void **state)
{
    /* "\r\n" is one line end; "\r\r" two; a "\r" at the very end ends the
     * last line. Linter lines: 1 a, 2 b, 3 "" (2 bytes into the service's
     * line 2), 4 c (3 bytes in), 5 d. */
    const char *text = "a\r\nb\r\rc\nd\r";

    (void)state;
    assert_mapped(text, 1,
                  "[{\"line\":1},{\"line\":2},{\"line\":3,\"column\":1},{\"line\":4,\"column\":2},"
                  "{\"line\":5},{\"line\":6}]",
                  "[{\"line\":1},{\"line\":2},{\"line\":2,\"column\":3},{\"line\":2,\"column\":5},"
                  "{\"line\":3},{\"line\":3}]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines_unchanged),
        cmocka_unit_test(test_lines_past_the_end),
        cmocka_unit_test(test_lone_cr_lines_map_back),
        cmocka_unit_test(test_mixed_line_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
