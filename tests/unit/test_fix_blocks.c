/* test_fix_blocks.c - unit tests for gateway/fix_blocks.c: change blocks of
 * a fix, and the property both exporters rely on: replacing each block's
 * old region by its text, back to front, gives what common/patch.c makes of
 * the same diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/patch.h"
#include "gateway/fix_blocks.h"

/* Byte offset of (line, column) in text; column in code points, 1-based. A
 * position one past the end (line after the last newline) is len. */
static size_t offset_of(const char *text, long line, long column)
{
    size_t i = 0, len = strlen(text);

    for (long l = 1; l < line; l++) {
        const char *nl = memchr(text + i, '\n', len - i);
        assert_non_null(nl);
        i = (size_t)(nl - text) + 1;
    }
    for (long c = 1; c < column; c++) {
        assert_true(i < len);
        i++;
        while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

/* Applies fb to old as SARIF replacements would be (positions in the
 * original text), returning the new text (owns). */
static char *apply_blocks(const char *old, const struct fix_blocks *fb)
{
    char *cur = strdup(old);

    assert_non_null(cur);
    for (size_t k = fb->n; k-- > 0;) {
        const struct fix_block *b = &fb->v[k];
        size_t from = offset_of(old, b->old_start, 1), to = offset_of(old, b->end_line,
                                                                       b->end_column);
        size_t len = strlen(cur), n = len - (to - from) + b->text_len;
        char *next = malloc(n + 1);

        assert_non_null(next);
        assert_true(from <= to && to <= len);
        memcpy(next, cur, from);
        memcpy(next + from, b->text, b->text_len);
        memcpy(next + from + b->text_len, cur + to, len - to);
        next[n] = '\0';
        free(cur);
        cur = next;
    }
    return cur;
}

static void expect_applies_like_patch(const char *old, const char *diff, const struct fix_blocks *fb)
{
    char *want = NULL, *got;
    size_t want_len = 0;

    assert_int_equal(patch_apply(old, strlen(old), diff, strlen(diff), &want, &want_len), 0);
    got = apply_blocks(old, fb);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

static const char TWELVE[] = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n";

static void test_replace_insert_delete(void **state)
{
    static const char diff[] =
        "--- a/src/app.py\n+++ b/src/app.py\n"
        "@@ -2,3 +2,3 @@\n l2\n-l3\n+L3\n l4\n"
        "@@ -6,2 +6,4 @@\n l6\n+new1\n+new2\n l7\n"
        "@@ -9,3 +11,2 @@\n l9\n-l10\n l11\n";
    struct fix_blocks fb;
    (void)state;

    assert_int_equal(fix_blocks_parse(diff, strlen(diff), &fb), 0);
    assert_string_equal(fb.path, "src/app.py");
    assert_int_equal(fb.n, 3);
    /* Replacement of line 3. */
    assert_int_equal(fb.v[0].old_start, 3);
    assert_int_equal(fb.v[0].old_count, 1);
    assert_int_equal(fb.v[0].end_line, 4);
    assert_int_equal(fb.v[0].end_column, 1);
    assert_string_equal(fb.v[0].text, "L3\n");
    assert_int_equal(fb.v[0].text_len, 3);
    /* Insertion before line 7. */
    assert_int_equal(fb.v[1].old_start, 7);
    assert_int_equal(fb.v[1].old_count, 0);
    assert_int_equal(fb.v[1].end_line, 7);
    assert_int_equal(fb.v[1].end_column, 1);
    assert_string_equal(fb.v[1].text, "new1\nnew2\n");
    /* Deletion of line 10. */
    assert_int_equal(fb.v[2].old_start, 10);
    assert_int_equal(fb.v[2].old_count, 1);
    assert_int_equal(fb.v[2].end_line, 11);
    assert_string_equal(fb.v[2].text, "");
    assert_int_equal(fb.v[2].text_len, 0);
    expect_applies_like_patch(TWELVE, diff, &fb);
    fix_blocks_cleanup(&fb);
    fix_blocks_cleanup(&fb);    /* emptied: a second call is harmless */
}

static void test_runs_within_a_hunk(void **state)
{
    /* Two runs in one hunk, split by a context line; the first mixes '-' and '+'. */
    static const char diff[] =
        "@@ -1,6 +1,5 @@\n-l1\n-l2\n+one\n l3\n l4\n+four-and-a-half\n-l5\n-l6\n+five\n+six\n";
    struct fix_blocks fb;
    (void)state;

    /* The header's new count is wrong (6 would be right): refused. */
    assert_int_equal(fix_blocks_parse(diff, strlen(diff), &fb), -1);
    {
        static const char ok[] =
            "@@ -1,6 +1,6 @@\n-l1\n-l2\n+one\n l3\n l4\n+four-and-a-half\n-l5\n-l6\n+five\n+six\n";
        assert_int_equal(fix_blocks_parse(ok, strlen(ok), &fb), 0);
        assert_null(fb.path);
        assert_int_equal(fb.n, 2);
        assert_int_equal(fb.v[0].old_start, 1);
        assert_int_equal(fb.v[0].old_count, 2);
        assert_string_equal(fb.v[0].text, "one\n");
        assert_int_equal(fb.v[1].old_start, 5);
        assert_int_equal(fb.v[1].old_count, 2);
        assert_int_equal(fb.v[1].end_line, 7);
        assert_string_equal(fb.v[1].text, "four-and-a-half\nfive\nsix\n");
        expect_applies_like_patch("l1\nl2\nl3\nl4\nl5\nl6\n", ok, &fb);
        fix_blocks_cleanup(&fb);
    }
}

static void test_edges_of_the_file(void **state)
{
    /* Insertion at the very top ("-0,0"), and appending after the last line. */
    static const char top[] = "--- a/t.py\n+++ b/t.py\n@@ -0,0 +1,2 @@\n+#!/usr/bin/env python3\n+\n";
    static const char end[] = "@@ -2,0 +3 @@\n+l3\n";
    /* The old file ends without a newline inside the block: é is one code point. */
    static const char nonl[] =
        "@@ -2 +2,2 @@\n-d\xc3\xa9j\xc3\xa0\n\\ No newline at end of file\n+deja\n+vu\n"
        "\\ No newline at end of file\n";
    struct fix_blocks fb;
    (void)state;

    assert_int_equal(fix_blocks_parse(top, strlen(top), &fb), 0);
    assert_int_equal(fb.n, 1);
    assert_int_equal(fb.v[0].old_start, 1);
    assert_int_equal(fb.v[0].old_count, 0);
    assert_string_equal(fb.v[0].text, "#!/usr/bin/env python3\n\n");
    expect_applies_like_patch("l1\nl2\n", top, &fb);
    fix_blocks_cleanup(&fb);

    assert_int_equal(fix_blocks_parse(end, strlen(end), &fb), 0);
    assert_int_equal(fb.v[0].old_start, 3);
    assert_int_equal(fb.v[0].old_count, 0);
    assert_int_equal(fb.v[0].end_line, 3);
    expect_applies_like_patch("l1\nl2\n", end, &fb);
    fix_blocks_cleanup(&fb);

    assert_int_equal(fix_blocks_parse(nonl, strlen(nonl), &fb), 0);
    assert_int_equal(fb.v[0].old_start, 2);
    assert_int_equal(fb.v[0].old_count, 1);
    assert_int_equal(fb.v[0].end_line, 2);
    assert_int_equal(fb.v[0].end_column, 5);
    assert_string_equal(fb.v[0].text, "deja\nvu");
    expect_applies_like_patch("l1\nd\xc3\xa9j\xc3\xa0", nonl, &fb);
    fix_blocks_cleanup(&fb);
}

/* common/patch.c and the exporters read the same fixes: the worker keeps a
 * model's fix when patch.c applies it, so a header fix_blocks (udiff)
 * refuses, a "diff --git" line (and an "index" line) with no "---"/"+++"
 * pair, is refused by patch.c too (before, patch.c applied it and SARIF
 * and rdjson left it out); with the pair, both take it alike. */
static void test_headers_patch_accepts(void **state)
{
    static const char *const refused[] = {
        "diff --git a/app.py b/app.py\n@@ -2 +2 @@\n-l2\n+L2\n",
        "diff --git a/app.py b/app.py\nindex 3b18e51..a042389 100644\n@@ -2 +2 @@\n-l2\n+L2\n",
        "--- /dev/null\n+++ /dev/null\n@@ -2 +2 @@\n-l2\n+L2\n",
    };
    static const char taken[] = "diff --git a/app.py b/app.py\nindex 3b18e51..a042389 100644\n"
                                "--- a/app.py\n+++ b/app.py\n@@ -2 +2 @@\n-l2\n+L2\n";
    struct fix_blocks fb;
    (void)state;

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (patch_apply(TWELVE, strlen(TWELVE), refused[i], strlen(refused[i]), NULL,
                        NULL) == 0)
            fail_msg("patch.c applies diff %zu, which fix_blocks_parse refuses", i);
        assert_int_equal(fix_blocks_parse(refused[i], strlen(refused[i]), &fb), -1);
    }
    assert_int_equal(patch_apply(TWELVE, strlen(TWELVE), taken, strlen(taken), NULL, NULL), 0);
    assert_int_equal(fix_blocks_parse(taken, strlen(taken), &fb), 0);
    assert_int_equal(fb.n, 1);
    assert_int_equal(fb.v[0].old_start, 2);
    assert_string_equal(fb.v[0].text, "L2\n");
    expect_applies_like_patch(TWELVE, taken, &fb);
    fix_blocks_cleanup(&fb);
}

static void test_refused(void **state)
{
    static const char two_files[] =
        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n";
    static const char context_only[] = "@@ -1,2 +1,2 @@\n a\n b\n";
    static const char garbage[] = "this is not a diff\n";
    struct fix_blocks fb;
    (void)state;

    assert_int_equal(fix_blocks_parse(two_files, strlen(two_files), &fb), -1);
    assert_int_equal(fb.n, 0);
    assert_null(fb.v);
    assert_int_equal(fix_blocks_parse(context_only, strlen(context_only), &fb), -1);
    assert_int_equal(fix_blocks_parse(garbage, strlen(garbage), &fb), -1);
    assert_int_equal(fix_blocks_parse("", 0, &fb), -1);
    fix_blocks_cleanup(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_insert_delete),
        cmocka_unit_test(test_runs_within_a_hunk),
        cmocka_unit_test(test_edges_of_the_file),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_headers_patch_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
