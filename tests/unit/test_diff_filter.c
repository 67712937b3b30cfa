/* test_diff_filter.c - unit tests for common/diff_filter.c: the filter
 * names, a known diff's scope, which findings each filter keeps, and the
 * new-side check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diff_filter.h"

/* New side, lines 1..12: hunk 1 covers 2..6 (added 4), hunk 2 covers 9..12
 * (added 10, 11), a removal-only hunk adds nothing. */
static const char DIFF[] = "--- a/m.py\n"
                           "+++ b/m.py\n"
                           "@@ -2,4 +2,5 @@\n"
                           " l2\n"
                           " l3\n"
                           "+l4\n"
                           " l5\n"
                           " l6\n"
                           "@@ -8,3 +9,4 @@\n"
                           " l9\n"
                           "-old\n"
                           "+l10\n"
                           "+l11\n"
                           " l12\n"
                           "@@ -20 +20,0 @@\n"
                           "-gone\n";

static struct udiff *parse(void)
{
    struct udiff *d = NULL;
    struct udiff_err e;

    if (udiff_parse(DIFF, sizeof DIFF - 1, &d, &e) != 0)
        fail_msg("line %ld: %s", e.line, e.msg);
    return d;
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(diff_filter_parse("added"), DIFF_FILTER_ADDED);
    assert_int_equal(diff_filter_parse("diff_context"), DIFF_FILTER_DIFF_CONTEXT);
    assert_int_equal(diff_filter_parse("file"), DIFF_FILTER_FILE);
    assert_int_equal(diff_filter_parse("nofilter"), DIFF_FILTER_NOFILTER);
    assert_int_equal(diff_filter_parse("Added"), -1);
    assert_int_equal(diff_filter_parse(""), -1);
    assert_int_equal(diff_filter_parse(NULL), -1);
    for (int f = DIFF_FILTER_ADDED; f <= DIFF_FILTER_NOFILTER; f++)
        assert_int_equal(diff_filter_parse(diff_filter_str((enum diff_filter)f)), f);
    assert_string_equal(diff_filter_str((enum diff_filter)99), "added");
}

static void test_scope(void **state)
{
    struct udiff *d = parse();
    struct diff_scope s;
    cJSON *j;
    char *txt;

    (void)state;
    assert_int_equal(diff_scope_build(&d->files[0], &s), 0);
    assert_int_equal(s.nadded, 2);
    assert_int_equal(s.added[0].first, 4);
    assert_int_equal(s.added[0].last, 4);
    assert_int_equal(s.added[1].first, 10);
    assert_int_equal(s.added[1].last, 11);
    j = diff_scope_ranges_json(&s, 0);
    txt = cJSON_PrintUnformatted(j);
    assert_string_equal(txt, "[[2,6],[9,12]]");
    free(txt);
    cJSON_Delete(j);
    j = diff_scope_ranges_json(&s, 1);
    txt = cJSON_PrintUnformatted(j);
    assert_string_equal(txt, "[[4,4],[10,11]]");
    free(txt);
    cJSON_Delete(j);
    diff_scope_cleanup(&s);
    diff_scope_cleanup(&s);     /* safe twice */
    udiff_free(d);
}

static void test_keeps(void **state)
{
    /* line, end_line, then kept by added, diff_context, file, nofilter */
    static const long cases[][6] = {
        {4, 4, 1, 1, 1, 1},   /* the added line */
        {3, 3, 0, 1, 1, 1},   /* a context line */
        {2, 5, 1, 1, 1, 1},   /* a range over the added line */
        {5, 9, 0, 1, 1, 1},   /* spans both hunks, no added line */
        {7, 8, 0, 0, 1, 1},   /* between the hunks */
        {8, 10, 1, 1, 1, 1},  /* reaches into an added line */
        {11, 3, 1, 1, 1, 1},  /* end_line before line reads as line */
        {12, 0, 0, 1, 1, 1},
        {20, 20, 0, 0, 1, 1}, /* where lines were only removed */
        {500, 900, 0, 0, 1, 1},
    };
    struct udiff *d = parse();
    struct diff_scope s;

    (void)state;
    assert_int_equal(diff_scope_build(&d->files[0], &s), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int f = 0; f < 4; f++)
            if (diff_scope_keeps(&s, (enum diff_filter)f, cases[i][0], cases[i][1]) !=
                cases[i][2 + f])
                fail_msg("lines %ld-%ld, filter %s: want %ld", cases[i][0], cases[i][1],
                         diff_filter_str((enum diff_filter)f), cases[i][2 + f]);
    diff_scope_cleanup(&s);
    udiff_free(d);
}

static void test_check_text(void **state)
{
    char text[256] = "", msg[160];
    struct udiff *d = parse();
    size_t n = 0;

    (void)state;
    for (int i = 1; i <= 20; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "l%d\n", i);
    assert_int_equal(diff_filter_check_text(DIFF, &d->files[0], text, n, msg, sizeof msg), 0);
    text[1] = 'X';              /* line 1 is outside every hunk */
    assert_int_equal(diff_filter_check_text(DIFF, &d->files[0], text, n, msg, sizeof msg), 0);
    text[4] = 'X';              /* line 2 ("l2") is context of hunk 1 */
    assert_int_equal(diff_filter_check_text(DIFF, &d->files[0], text, n, msg, sizeof msg), -1);
    assert_string_equal(msg, "diff line 4 differs from file_content line 2");
    assert_int_equal(diff_filter_check_text(DIFF, &d->files[0], "l1\n", 3, msg, sizeof msg), -1);
    assert_string_equal(msg, "the hunk at diff line 3 reaches new line 6, but file_content "
                             "has 1 lines");
    udiff_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_keeps),
        cmocka_unit_test(test_check_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
