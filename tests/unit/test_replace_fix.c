/* test_replace_fix.c - unit tests for worker/replace_fix.c: the exact diff
 * for the common cases, and for every range of a few small files (LF, CRLF,
 * no final newline) and a set of replacements, that the diff applies with
 * common/patch.c and gives the file with those lines replaced.
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
#include "worker/replace_fix.h"

static char *diff_of(const char *text, const char *path, long first, long last, const char *repl)
{
    return replace_fix_diff(text, strlen(text), path, first, last, repl, strlen(repl), NULL);
}

/* Why replace_fix_diff made no diff (it must make none). */
static const char *why_of(const char *text, long first, long last, const char *repl)
{
    const char *why = NULL;
    char *d = replace_fix_diff(text, strlen(text), NULL, first, last, repl, strlen(repl), &why);

    assert_null(d);
    assert_non_null(why);
    return why;
}

/* Applies diff to text and checks the result is want. */
static void assert_gives(const char *text, const char *diff, const char *want)
{
    char *out = NULL;
    size_t n = 0;

    assert_non_null(diff);
    assert_int_equal(patch_apply(text, strlen(text), diff, strlen(diff), &out, &n), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    free(out);
}

static void test_middle_of_a_file(void **state)
{
    const char *text = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
    char *d;

    (void)state;
    d = diff_of(text, "src/x.c", 5, 5, "E\n");
    assert_string_equal(d, "--- a/src/x.c\n+++ b/src/x.c\n@@ -2,7 +2,7 @@\n"
                           " b\n c\n d\n-e\n+E\n f\n g\n h\n");
    assert_gives(text, d, "a\nb\nc\nd\nE\nf\ng\nh\ni\n");
    free(d);

    /* Two lines become three; without a final "\n" the same diff. */
    d = diff_of(text, NULL, 4, 5, "D1\nD2\nD3");
    assert_string_equal(d, "@@ -1,8 +1,9 @@\n a\n b\n c\n-d\n-e\n+D1\n+D2\n+D3\n f\n g\n h\n");
    assert_gives(text, d, "a\nb\nc\nD1\nD2\nD3\nf\ng\nh\ni\n");
    free(d);

    /* Three lines become one empty line. */
    d = diff_of(text, NULL, 7, 9, "\n");
    assert_string_equal(d, "@@ -4,6 +4,4 @@\n d\n e\n f\n-g\n-h\n-i\n+\n");
    assert_gives(text, d, "a\nb\nc\nd\ne\nf\n\n");
    free(d);
}

/* The diff replace_fix_diff makes (NULL: none is wanted) and, when want_text
 * is given, what applying it gives. */
static void expect(const char *text, long first, long last, const char *repl,
                   const char *want_diff, const char *want_text)
{
    char *d = diff_of(text, NULL, first, last, repl);

    if (want_diff != NULL)
        assert_string_equal(d, want_diff);
    if (want_text != NULL)
        assert_gives(text, d, want_text);
    free(d);
}

static void test_file_ends(void **state)
{
    (void)state;
    /* The first line: no context before it. */
    expect("x\ny\n", 1, 1, "X", "@@ -1,2 +1,2 @@\n-x\n+X\n y\n", "X\ny\n");
    /* A last line without a newline stays without one ... */
    expect("x\ny", 2, 2, "Y\n",
           "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n"
           "+Y\n\\ No newline at end of file\n", "x\nY");
    /* ... also as context after the replaced line. */
    expect("x\ny", 1, 1, "X", "@@ -1,2 +1,2 @@\n-x\n+X\n y\n\\ No newline at end of file\n",
           "X\ny");
    /* A CRLF file: the new lines take "\r\n", whatever the model wrote. */
    expect("p\r\nq\r\nr\r\n", 2, 2, "Q1\r\nQ2\n", NULL, "p\r\nQ1\r\nQ2\r\nr\r\n");
    expect("p\nq\n", 2, 2, "Q\r", "@@ -1,2 +1,2 @@\n p\n-q\n+Q\n", "p\nQ\n");
}

static void test_copied_numbering_removed(void **state)
{
    (void)state;
    expect("a\nb\nc\n", 2, 3, "2\tB\n3\tC\n", NULL, "a\nB\nC\n");
    /* A number far from the range is the code's own text. */
    expect("a\nb\nc\n", 2, 2, "7\tB\n", NULL, "a\n7\tB\nc\n");
    /* The model's numbers name other lines than its range: the line before
     * copied as context, or changed (the range is a line off), or a first
     * line skipped. */
    assert_string_equal(why_of("a\nb\nc\nd\n", 3, 3, "2\tb\n3\tC\n"), REPLACE_FIX_MISPLACED);
    assert_string_equal(why_of("a\nb\nc\nd\n", 3, 3, "2\tB\n3\tC\n"), REPLACE_FIX_MISPLACED);
    assert_string_equal(why_of("a\nb\nc\nd\n", 2, 3, "3\tC\n"), REPLACE_FIX_MISPLACED);
    /* Lines the excerpt leaves unnumbered (empty, only closing a block)
     * come without a number; the first numbered one says where it is. */
    expect("if x {\n  y()\n}\n\nz()\n", 3, 5, "}\n\n5\tw()\n", NULL, "if x {\n  y()\n}\n\nw()\n");
    assert_string_equal(why_of("if x {\n  y()\n}\n\nz()\n", 3, 5, "}\n\n4\tw()\n"),
                        REPLACE_FIX_MISPLACED);
}

/* A replacement that starts with a copy of the line before the range, or
 * ends with a copy of the line after it, would leave that line twice: the
 * model copied a neighbour or placed the range a line off. Refused, unless
 * the line says nothing of its own (it only closes a block, or has no
 * letter or digit): those may well stand twice in a row. */
static void test_neighbour_repeated(void **state)
{
    const char *c = "int f(int n)\n{\n    int x = g(n);\n    use(x);\n    return x;\n}\n";
    const char *rb = "if a then\n  if b then\n    x()\n  end\nend\n";
    const char *md = "a\n---\nb\n";

    (void)state;
    /* The line before, copied as context ... */
    assert_null(diff_of(c, NULL, 4, 4, "    int x = g(n);\n    if (x < 0)\n        return -1;\n"
                                       "    use(x);\n"));
    /* ... with other indentation, or the numbering copied too. */
    assert_null(diff_of(c, NULL, 4, 4, "int x = g(n);\n    use(x, 1);\n"));
    assert_null(diff_of(c, NULL, 4, 4, "4\t    int x = g(n);\n4\t    use(x, 1);\n"));
    /* The line after. */
    assert_null(diff_of(c, NULL, 4, 4, "    if (x >= 0)\n        use(x);\n    return x;\n"));
    /* A one-line replacement that is the next line: a line off. */
    assert_string_equal(why_of(c, 3, 3, "    use(x);\n"), REPLACE_FIX_NEIGHBOUR);

    /* Two lines copied before; the two lines after, as when end_line is
     * left out of a fix rewriting three lines. */
    assert_null(diff_of(c, NULL, 5, 5, "    int x = g(n);\n    use(x);\n    return x + 1;\n"));
    assert_string_equal(why_of(c, 3, 3, "    int y = g(n);\n    use(x);\n    return x;\n"),
                        REPLACE_FIX_NEIGHBOUR);
    /* Only closers repeated, however many: kept. */
    expect(rb, 3, 3, "    x(1)\n  end\nend\n", NULL,
           "if a then\n  if b then\n    x(1)\n  end\nend\n  end\nend\n");
    /* A copy of lines further away is not an echo. */
    expect(c, 5, 5, "    int x = g(n);\n    return x;\n", NULL,
           "int f(int n)\n{\n    int x = g(n);\n    use(x);\n"
           "    int x = g(n);\n    return x;\n}\n");

    /* Kept: the repeated line is inside the range (replaced, not doubled). */
    expect(c, 3, 4, "    int x = g(n);\n    if (x < 0)\n        return -1;\n    use(x);\n", NULL,
           "int f(int n)\n{\n    int x = g(n);\n    if (x < 0)\n        return -1;\n"
           "    use(x);\n    return x;\n}\n");
    /* Kept: first and last lines of the file have no neighbour there. */
    expect(c, 1, 1, "static int f(int n)\n", NULL,
           "static int f(int n)\n{\n    int x = g(n);\n    use(x);\n    return x;\n}\n");
    /* Kept: a line that only closes a block, twice in a row. */
    expect(rb, 3, 3, "    x()\n  end\n", NULL,
           "if a then\n  if b then\n    x()\n  end\n  end\nend\n");
    expect(c, 5, 5, "    return x;\n}\n", NULL,
           "int f(int n)\n{\n    int x = g(n);\n    use(x);\n    return x;\n}\n}\n");
    /* Kept: no letter or digit. */
    expect(md, 3, 3, "---\nc\n", NULL, "a\n---\n---\nc\n");
}

static void test_refused(void **state)
{
    static char big[PATCH_MAX + 16];
    const char *text = "a\nb\nc\n";

    (void)state;
    assert_null(diff_of(text, NULL, 0, 1, "x"));       /* line 0 */
    assert_null(diff_of(text, NULL, 2, 1, "x"));       /* end before start */
    assert_null(diff_of(text, NULL, 3, 4, "x"));       /* past the end */
    assert_null(diff_of("", NULL, 1, 1, "x"));         /* empty file */
    assert_null(diff_of(text, NULL, 1, 1, ""));        /* no replacement */
    assert_null(diff_of(text, NULL, 2, 2, "b\n"));     /* no change */
    assert_null(diff_of(text, NULL, 2, 3, "b\nc"));
    assert_null(diff_of(text, NULL, 2, 2, "2\tb"));     /* no change once unnumbered */
    assert_string_equal(why_of(text, 2, 3, "b\nc"), REPLACE_FIX_UNCHANGED);
    assert_string_equal(why_of(text, 3, 4, "x"), REPLACE_FIX_INVALID);
    assert_null(replace_fix_diff(text, strlen(text), NULL, 1, 1, "x\0y", 3, NULL));
    assert_null(diff_of(text, "a\nb", 1, 1, "x"));     /* a path that breaks the header */
    assert_null(replace_fix_diff(NULL, 0, NULL, 1, 1, "x", 1, NULL));
    assert_null(replace_fix_diff(text, strlen(text), NULL, 1, 1, NULL, 0, NULL));

    memset(big, 'x', sizeof(big) - 1);                 /* over PATCH_MAX */
    assert_null(diff_of(text, NULL, 1, 1, big));
}

/* Appends s[0..n) at out + *o; the caller sized out. */
static void append(char *out, size_t *o, const char *s, size_t n)
{
    memcpy(out + *o, s, n);
    *o += n;
}

/* Splices lines first..last of text with the replacement's lines. */
static char *splice(const char *text, long first, long last, const char *repl)
{
    size_t tl = strlen(text), rl = strlen(repl), o = 0;
    char *out = calloc(1, tl + 3 * rl + 8);   /* each repl byte: itself + "\r\n" at most */
    const char *p = text, *eol = strstr(text, "\r\n") != NULL ? "\r\n" : "\n";
    long no = 1;

    assert_non_null(out);
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

        if (no < first || no > last) {
            append(out, &o, p, n);
        } else if (no == last) {
            for (const char *r = repl; *r != '\0';) {
                const char *rn = strchr(r, '\n');
                size_t m = rn != NULL ? (size_t)(rn - r) : strlen(r);
                append(out, &o, r, m);
                r += m + (rn != NULL);
                if (!(nl == NULL && *r == '\0'))     /* the file's last line stays open */
                    append(out, &o, eol, strlen(eol));
            }
        }
        p += n;
        no++;
    }
    return out;
}

static void test_every_range_applies(void **state)
{
    static const char *const files[] = {
        "one\n", "one", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\n3\n4\n5\n6\n7\n8",
        "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\n", "\n\n\n",
    };
    static const char *const repls[] = {"X", "X\n", "X\nY\nZ\n", "\n", "X\n\nY"};
    int checked = 0;

    (void)state;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        long total = 0;
        for (const char *c = files[f]; *c != '\0'; c++)
            total += *c == '\n';
        if (files[f][0] != '\0' && files[f][strlen(files[f]) - 1] != '\n')
            total++;
        for (long first = 1; first <= total; first++)
            for (long last = first; last <= total; last++)
                for (size_t r = 0; r < sizeof(repls) / sizeof(repls[0]); r++) {
                    char *d = diff_of(files[f], "f.txt", first, last, repls[r]);
                    char *want = splice(files[f], first, last, repls[r]);

                    if (strcmp(want, files[f]) == 0) {
                        assert_null(d);             /* nothing to change */
                    } else {
                        assert_gives(files[f], d, want);
                        checked++;
                    }
                    free(d);
                    free(want);
                }
    }
    assert_true(checked > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_middle_of_a_file),
        cmocka_unit_test(test_file_ends),
        cmocka_unit_test(test_copied_numbering_removed),
        cmocka_unit_test(test_neighbour_repeated),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_every_range_applies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
