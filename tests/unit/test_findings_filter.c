/* test_findings_filter.c - worker/findings_filter.c: which findings each
 * filter keeps on a known diff, the count dropped and the members added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/findings_filter.h"

/* Hunk new side 3..8, added lines 5 and 6. */
static const char DIFF[] = "--- a/m.py\n+++ b/m.py\n@@ -3,5 +3,6 @@\n a\n b\n-c\n+C\n+D\n"
                           " e\n f\n";

/* Findings on lines 5 (added), 7..9 (context, then outside), 4..6 (over an
 * added line), 20 (elsewhere) and one without a line. */
static const char FINDINGS[] = "[{\"line\":5},{\"line\":7,\"end_line\":9},"
                               "{\"line\":4,\"end_line\":6},{\"line\":20},{\"message\":\"x\"}]";

/* Applies filter; asserts the kept findings' lines (0: no line) and the members. */
static void check(const char *filter, const char *want_lines, int want_dropped)
{
    cJSON *f = cJSON_Parse(FINDINGS), *m = cJSON_CreateObject(), *it;
    char got[64] = "", *txt;
    size_t n = 0;

    assert_int_equal(findings_filter_apply(DIFF, filter, f, m), 0);
    cJSON_ArrayForEach(it, f)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%d", n ? "," : "",
                              cJSON_GetObjectItem(it, "line")
                                  ? cJSON_GetObjectItem(it, "line")->valueint : 0);
    if (strcmp(got, want_lines) != 0)
        fail_msg("%s kept %s, want %s", filter, got, want_lines);
    txt = cJSON_PrintUnformatted(m);
    snprintf(got, sizeof got, "{\"filter\":\"%s\",\"filtered_out\":%d,", filter, want_dropped);
    assert_memory_equal(txt, got, strlen(got));
    assert_string_equal(txt + strlen(got),
                        "\"changed_ranges\":[[5,6]],\"diff_ranges\":[[3,8]]}");
    free(txt);
    cJSON_Delete(f);
    cJSON_Delete(m);
}

static void test_filters(void **state)
{
    (void)state;
    check("added", "5,4", 3);
    check("diff_context", "5,7,4", 2);
    check("file", "5,7,4,20,0", 0);
    check("nofilter", "5,7,4,20,0", 0);
}

static void test_refused(void **state)
{
    cJSON *f = cJSON_Parse(FINDINGS), *m = cJSON_CreateObject();

    (void)state;
    assert_int_equal(findings_filter_apply(DIFF, "changed", f, m), -1);
    assert_int_equal(findings_filter_apply("not a diff", "added", f, m), -1);
    assert_int_equal(findings_filter_apply(NULL, "added", f, m), -1);
    assert_int_equal(cJSON_GetArraySize(f), 5);
    assert_null(m->child);
    cJSON_Delete(f);
    cJSON_Delete(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
