/* test_patch.c - unit tests for worker/patch.c.
 *
 * tests/fixtures/patch/ holds pairs <name>.old / <name>.new and the diffs
 * GNU diff and git produced for them (see gen.sh there): applying
 * <name>.diff to <name>.old must give <name>.new byte for byte. Malformed
 * and non-applying diffs are written inline. Run from the repository root;
 * under ASan a leak on any failure path fails the binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/patch.h"
#include "tests/unit/c_file_fx.h"

#include "tests/unit/fixture.h"

#define FIXTURE_DIR "tests/fixtures/patch/"

static char *fixture(const char *name, const char *ext, size_t *len)
{
    char file[256];
    int n = snprintf(file, sizeof(file), "%s.%s", name, ext);

    assert_true(n > 0 && (size_t)n < sizeof(file));
    return fixture_read(FIXTURE_DIR, file, len);
}

/* Applies diff to text; asserts success and that the result is want. */
static void assert_applies(const char *text, size_t len, const char *diff, size_t dlen,
                           const char *want, size_t wlen, const char *what)
{
    char *out = (char *)"unset";
    size_t out_len = 12345;

    if (patch_apply(text, len, diff, dlen, &out, &out_len) != 0)
        fail_msg("%s: patch_apply failed", what);
    assert_non_null(out);
    if (out_len != wlen || memcmp(out, want, wlen) != 0)
        fail_msg("%s: result differs from the expected file (%zu vs %zu bytes)", what, out_len,
                 wlen);
    assert_int_equal(out[out_len], '\0');
    free(out);
    /* Check-only mode agrees and allocates nothing. */
    out_len = 0;
    assert_int_equal(patch_apply(text, len, diff, dlen, NULL, &out_len), 0);
    assert_int_equal(out_len, wlen);
}

/* Applies diff to text; asserts -1 with *out NULL and *out_len 0. */
static void assert_rejects(const char *text, size_t len, const char *diff, size_t dlen,
                           const char *what)
{
    char *out = (char *)"unset";
    size_t out_len = 12345;

    if (patch_apply(text, len, diff, dlen, &out, &out_len) != -1)
        fail_msg("%s: accepted", what);
    assert_null(out);
    assert_int_equal(out_len, 0);
    if (patch_apply(text, len, diff, dlen, NULL, NULL) != -1)
        fail_msg("%s: accepted in check-only mode", what);
}

static void apply_pair(const char *name, const char *diff_name)
{
    size_t ol, nl, dl;
    char *old = fixture(name, "old", &ol);
    char *new_text = fixture(name, "new", &nl);
    char *diff = fixture_read(FIXTURE_DIR, diff_name, &dl);

    assert_applies(old, ol, diff, dl, new_text, nl, diff_name);
    free(old);
    free(new_text);
    free(diff);
}

static void test_diff_u_pairs(void **state)
{
    static const char *const names[] = {
        "multi", "nonl_add", "nonl_remove", "nonl_both", "nonl_ctx", "crlf", "one",
        "empty", "to_empty", "edges",
    };
    char diff_name[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(diff_name, sizeof(diff_name), "%s.diff", names[i]);
        apply_pair(names[i], diff_name);
    }
}

/* Zero context (pure insertions "@@ -10,0 +12 @@") and git's header. */
static void test_diff_u0_and_git(void **state)
{
    (void)state;
    apply_pair("multi", "multi.u0.diff");
    apply_pair("edges", "edges.u0.diff");
    apply_pair("multi", "multi.git.diff");
}

/* A diff made for one version does not apply to another: no fuzz, no
 * offset, no newline or line-end tolerance. */
static void test_other_versions_fail(void **state)
{
    size_t dl, tl, i, k;
    char *diff = fixture_read(FIXTURE_DIR, "multi.diff", &dl), *text, *lf, *crlf;

    (void)state;
    text = fixture_read(FIXTURE_DIR, "multi.other", &tl);   /* a context line differs */
    assert_rejects(text, tl, diff, dl, "multi.diff on multi.other");
    free(text);
    text = fixture_read(FIXTURE_DIR, "multi.shifted", &tl); /* one line inserted above */
    assert_rejects(text, tl, diff, dl, "multi.diff on multi.shifted");
    free(text);
    text = fixture("multi", "new", &tl);                    /* already applied */
    assert_rejects(text, tl, diff, dl, "multi.diff on multi.new");
    free(text);
    text = fixture("multi", "old", &tl);                    /* truncated before the last hunk */
    assert_rejects(text, tl - 10, diff, dl, "multi.diff on a truncated multi.old");
    free(text);
    free(diff);

    /* The old file's last line gained a newline the diff says it lacks. */
    diff = fixture_read(FIXTURE_DIR, "nonl_add.diff", &dl);
    text = fixture("nonl_add", "old", &tl);
    lf = malloc(tl + 2);
    assert_non_null(lf);
    memcpy(lf, text, tl);
    lf[tl] = '\n';
    assert_rejects(lf, tl + 1, diff, dl, "nonl_add.diff on a file ending in a newline");
    free(lf);
    free(text);
    free(diff);

    /* The CRLF diff on the LF version of the file, and the reverse. */
    diff = fixture_read(FIXTURE_DIR, "crlf.diff", &dl);
    text = fixture("crlf", "old", &tl);
    lf = malloc(tl + 1);
    assert_non_null(lf);
    for (i = 0, k = 0; i < tl; i++)
        if (text[i] != '\r')
            lf[k++] = text[i];
    assert_rejects(lf, k, diff, dl, "crlf.diff on the LF file");
    free(lf);
    free(text);
    free(diff);
    diff = fixture_read(FIXTURE_DIR, "one.diff", &dl);
    crlf = (char *)"only line\r\n";
    assert_rejects(crlf, strlen(crlf), diff, dl, "one.diff on the CRLF file");
    free(diff);
}

struct bad_case {
    const char *what;
    const char *text;
    const char *diff;
};

static void test_malformed(void **state)
{
    static const struct bad_case cases[] = {
        {"no hunk", "a\n", "--- a/x\n+++ b/x\n"},
        {"text before the header", "a\n", "Here is the fix:\n@@ -1 +1 @@\n-a\n+b\n"},
        {"--- without +++", "a\n", "--- a/x\n@@ -1 +1 @@\n-a\n+b\n"},
        {"+++ before ---", "a\n", "+++ b/x\n--- a/x\n@@ -1 +1 @@\n-a\n+b\n"},
        {"two diff lines", "a\n", "diff a b\ndiff a b\n@@ -1 +1 @@\n-a\n+b\n"},
        {"mode change", "a\n", "diff --git a/x b/x\nold mode 100644\nnew mode 100755\n"},
        {"rename", "a\n", "diff --git a/x b/y\nrename from x\nrename to y\n"},
        {"header missing @@", "a\n", "@@ -1 +1\n-a\n+b\n"},
        {"header not a number", "a\n", "@@ -a +1 @@\n-a\n+b\n"},
        {"header no blank before @@", "a\n", "@@ -1 +1@@\n-a\n+b\n"},
        {"header no minus", "a\n", "@@ 1 +1 @@\n-a\n+b\n"},
        {"header two minus", "a\n", "@@ -1 -1 @@\n-a\n+b\n"},
        {"header empty count", "a\n", "@@ -1, +1 @@\n-a\n+b\n"},
        {"header negative", "a\n", "@@ --1 +1 @@\n-a\n+b\n"},
        {"header junk after", "a\n", "@@ -1 +1 @@x\n-a\n+b\n"},
        {"header two blanks", "a\n", "@@  -1 +1 @@\n-a\n+b\n"},
        {"header number too long", "a\n", "@@ -1234567890 +1 @@\n-a\n+b\n"},
        {"header count too long", "a\n", "@@ -1,0000000001 +1 @@\n-a\n+b\n"},
        {"header plus sign in number", "a\n", "@@ -+1 +1 @@\n-a\n+b\n"},
        {"start 0 with lines", "a\n", "@@ -0,1 +1 @@\n-a\n+b\n"},
        {"empty hunk", "a\n", "@@ -1,0 +1,0 @@\n"},
        {"new start inconsistent", "a\nb\n", "@@ -2 +5 @@\n-b\n+c\n"},
        {"fewer old lines than counted", "a\nb\n", "@@ -1,2 +1 @@\n-a\n+c\n"},
        {"more old lines than counted", "a\nb\n", "@@ -1 +1 @@\n-a\n-b\n+c\n"},
        {"fewer new lines than counted", "a\n", "@@ -1 +1,2 @@\n-a\n+b\n"},
        {"more new lines than counted", "a\n", "@@ -1 +1 @@\n-a\n+b\n+c\n"},
        {"context beyond new count", "a\nb\n", "@@ -1,2 +1 @@\n a\n b\n"},
        {"trailing blank line", "a\n", "@@ -1 +1 @@\n-a\n+b\n\n"},
        {"trailing text", "a\n", "@@ -1 +1 @@\n-a\n+b\nthanks!\n"},
        {"unknown body line", "a\nb\n", "@@ -1,2 +1,2 @@\n a\n*b\n b\n"},
        {"second file", "a\n",
         "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-x\n+y\n"},
        {"hunks out of order", "1\n2\n3\n4\n5\n6\n7\n8\n",
         "@@ -7 +7 @@\n-7\n+seven\n@@ -2 +2 @@\n-2\n+two\n"},
        {"hunks overlapping", "1\n2\n3\n4\n5\n",
         "@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n@@ -3,2 +3,2 @@\n 3\n-4\n+four\n"},
        {"hunk past EOF", "a\nb\nc\n", "@@ -5 +5 @@\n-e\n+f\n"},
        {"hunk runs past EOF", "a\nb\nc\n", "@@ -3,2 +3,2 @@\n c\n-d\n+e\n"},
        {"insertion past EOF", "a\n", "@@ -2,0 +3 @@\n+z\n"},
        {"context differs", "a\nb\n", "@@ -1,2 +1,2 @@\n a \n-b\n+c\n"},
        {"removal differs", "a\nb\n", "@@ -1,2 +1,2 @@\n a\n-B\n+c\n"},
        {"context at the wrong line", "a\nb\nb\n", "@@ -1,2 +1,2 @@\n b\n-b\n+c\n"},
        {"marker first", "a\n", "@@ -1 +1 @@\n\\ No newline at end of file\n-a\n+b\n"},
        {"marker twice", "a", "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n"
                              "\\ No newline at end of file\n+b\n"},
        {"marker on a line that has one", "a\n",
         "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"},
        {"marker missing", "a", "@@ -1 +1 @@\n-a\n+b\n"},
        {"new last line before old lines", "a\nb\n",
         "@@ -1 +1 @@\n-a\n+c\n\\ No newline at end of file\n"},
        {"insertion after a line without newline", "a", "@@ -1,0 +2 @@\n+b\n"},
        {"binary: git", "a\n",
         "diff --git a/x b/x\nindex 1..2 100644\nGIT binary patch\nliteral 0\nHcmV?d00001\n"},
        {"binary: diff", "a\n", "Binary files a/x and b/x differ\n"},
        {"CRLF hunk on LF text", "a\nb\n", "@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_rejects(cases[i].text, strlen(cases[i].text), cases[i].diff,
                       strlen(cases[i].diff), cases[i].what);
}

static void test_bad_arguments(void **state)
{
    static const char nul_diff[] = "@@ -1 +1 @@\n-a\n+b\0\n";

    (void)state;
    assert_rejects("a\n", 2, "", 0, "empty diff");
    assert_rejects("a\n", 2, NULL, 0, "NULL diff");
    assert_rejects(NULL, 2, "@@ -1 +1 @@\n-a\n+b\n", strlen("@@ -1 +1 @@\n-a\n+b\n"),
                   "NULL text with a length");
    assert_rejects("a\n", 2, nul_diff, sizeof(nul_diff) - 1, "NUL byte in the diff");
    /* NULL text of length 0 is the empty file. */
    assert_applies(NULL, 0, "@@ -0,0 +1 @@\n+b\n", strlen("@@ -0,0 +1 @@\n+b\n"), "b\n", 2,
                   "insert into NULL");
}

/* Builds "@@ -1 +1,N @@\n-a\n" plus N '+' lines, exactly total bytes. */
static char *big_diff(size_t total)
{
    char head[64];
    char *d = malloc(total);
    size_t lines = 0, o, hn, line_len = 64, need;
    int n;

    assert_non_null(d);
    /* The header's width depends on N; the last line takes the slack. */
    for (lines = total / line_len; ; lines--) {
        n = snprintf(head, sizeof(head), "@@ -1 +1,%zu @@\n-a\n", lines);
        assert_true(n > 0 && (size_t)n < sizeof(head));
        hn = (size_t)n;
        need = hn + lines * line_len;
        if (need <= total)
            break;
    }
    memcpy(d, head, hn);
    for (o = hn; o < hn + lines * line_len; o += line_len) {
        d[o] = '+';
        memset(d + o + 1, 'x', line_len - 2);
        d[o + line_len - 1] = '\n';
    }
    /* Widen the last line to end exactly at total. */
    o = hn + (lines - 1) * line_len;
    d[o] = '+';
    memset(d + o + 1, 'y', total - o - 2);
    d[total - 1] = '\n';
    return d;
}

static void test_size_limit(void **state)
{
    char *d, *out;
    size_t out_len;

    (void)state;
    d = big_diff(PATCH_MAX);
    assert_int_equal(patch_apply("a\n", 2, d, PATCH_MAX, &out, &out_len), 0);
    assert_true(out_len > 2 && out_len < PATCH_MAX);
    free(out);
    free(d);
    d = big_diff(PATCH_MAX + 1);
    assert_rejects("a\n", 2, d, PATCH_MAX + 1, "diff over PATCH_MAX");
    free(d);
}

static void applies_str(const char *text, const char *diff, const char *want, const char *what)
{
    assert_applies(text, strlen(text), diff, strlen(diff), want, strlen(want), what);
}

/* Forms diff -u does not write but other tools and models do. */
static void test_lenient_forms(void **state)
{
    (void)state;
    /* An empty context line whose leading blank was stripped. */
    applies_str("a\n\nb\n", "@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n", "a\n\nc\n", "empty context line");
    /* The diff's last line without its newline. */
    applies_str("a\n", "@@ -1 +1 @@\n-a\n+b", "b\n", "unterminated diff");
    /* A diff carried with CRLF line ends applies to the CRLF text. */
    applies_str("a\r\nb\r\n", "--- a/x\r\n+++ b/x\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n",
                "a\r\nc\r\n", "CRLF diff");
    /* Adjacent hunks and a section heading. */
    applies_str("1\n2\n3\n", "@@ -1 +1 @@ int main(void)\n-1\n+one\n@@ -2 +2 @@\n-2\n+two\n",
                "one\ntwo\n3\n", "adjacent hunks");
    /* A pure insertion between two lines, zero context. */
    applies_str("1\n3\n", "@@ -1,0 +2 @@\n+2\n", "1\n2\n3\n", "insertion");
    /* Deleting the last line that has no newline, keeping the one before. */
    applies_str("a\nb", "@@ -1,2 +1 @@\n a\n-b\n\\ No newline at end of file\n", "a\n",
                "delete unterminated last line");
}

/* Which file a diff's "+++ " header names. */
/* The old lines a diff changes: removed lines, and both neighbours of an
 * added one; context lines count for nothing. */
static void test_span(void **state)
{
    static const char text[] = "a\nb\nc\nd\ne\nf\ng\nh\n";
    static const struct {
        const char *diff;
        long first, last;
    } cases[] = {
        {"@@ -3 +3 @@\n-c\n+C\n", 3, 3},
        {"@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n", 3, 3},           /* context around */
        {"@@ -4,0 +5 @@\n+x\n", 4, 5},                           /* added after d */
        {"@@ -0,0 +1 @@\n+x\n", 1, 1},                           /* before line 1 */
        {"@@ -2 +2 @@\n-b\n+B\n@@ -7 +7 @@\n-g\n+G\n", 2, 7}, /* two hunks */
        {"@@ -5,2 +5 @@\n-e\n-f\n+ef\n", 5, 6},
        /* A bare insertion hunk after a hunk ending in a removal: its
         * position counts (the removal's state does not carry over). */
        {"@@ -2 +2 @@\n-b\n+B\n@@ -6,0 +7 @@\n+x\n", 2, 7},
        {"@@ -2 +1,0 @@\n-b\n@@ -6,0 +6 @@\n+x\n", 2, 7},
    };
    long first, last;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (patch_span(text, strlen(text), cases[i].diff, strlen(cases[i].diff), &first,
                       &last) != 0)
            fail_msg("case %zu does not apply", i);
        if (first != cases[i].first || last != cases[i].last)
            fail_msg("case %zu: %ld..%ld, want %ld..%ld", i, first, last, cases[i].first,
                     cases[i].last);
    }
    first = last = 9;
    assert_int_equal(patch_span(text, strlen(text), "@@ -3 +3 @@\n-x\n+y\n", 19, &first,
                                &last), -1);
    assert_int_equal(first, 0);
    assert_int_equal(last, 0);
}

/* 15 lines. */
static const char file_c[] = C_FILE_FX;

/* A fix for line 5 whose second hunk, without context, inserts a line
 * after line 14. The span must reach it: before, the first hunk's removal
 * was taken for the insertion's and the span read 5..5, so a diff keeping
 * to its finding could carry a line planted anywhere (answer.c). */
static void test_span_second_hunk_insertion(void **state)
{
    static const char diff[] = C_FILE_FX_FAR_INSERTION;
    long from = 0, to = 0;
    char *out = NULL;
    size_t n = 0;

    (void)state;
    /* The diff applies: the line lands after line 14. */
    assert_int_equal(patch_apply(file_c, strlen(file_c), diff, strlen(diff), &out, &n), 0);
    assert_non_null(strstr(out, "    return s;\n    system("));
    free(out);
    assert_int_equal(patch_span(file_c, strlen(file_c), diff, strlen(diff), &from, &to), 0);
    assert_int_equal(from, 5);
    assert_int_equal(to, 15);
}

static void test_names_path(void **state)
{
    (void)state;
    assert_int_equal(patch_names_path("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n", "x.py"), 1);
    assert_int_equal(patch_names_path("--- x.py\n+++ x.py\t2024-01-01\n@@ -1 +1 @@\n", "x.py"), 2);
    assert_int_equal(patch_names_path("+++ b/lib/u.py\r\n", "lib/u.py"), 1);
    assert_int_equal(patch_names_path("+++ b/x.py\n", "b/x.py"), 2);
    assert_int_equal(patch_names_path("+++ b/x.py\n", "y.py"), 0);
    assert_int_equal(patch_names_path("+++ b/x.py\n", "x.p"), 0);
    assert_int_equal(patch_names_path("+++ b/x.pyc\n", "x.py"), 0);
    /* No header, or "+++ " inside a line: the file the diff was made for. */
    assert_int_equal(patch_names_path("@@ -1 +1 @@\n-a\n+b\n", "x.py"), -1);
    assert_int_equal(patch_names_path("@@ -1 +1 @@\n-a +++ x.py\n", "x.py"), -1);
    assert_int_equal(patch_names_path("", "x.py"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_u_pairs),
        cmocka_unit_test(test_diff_u0_and_git),
        cmocka_unit_test(test_other_versions_fail),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_lenient_forms),
        cmocka_unit_test(test_names_path),
        cmocka_unit_test(test_span),
        cmocka_unit_test(test_span_second_hunk_insertion),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
