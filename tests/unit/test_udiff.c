/* test_udiff.c - unit tests for common/udiff.c, linked against it alone.
 *
 * GIT_DIFF is real `git diff --cached -M` output (see the comment there);
 * the other diffs are written inline. Every error case checks the reported
 * line number; under ASan a leak on any path fails the binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/udiff.h"

/* git 2.39, a repository with a modified a.py, a deleted gone.txt, a changed
 * binary img.bin, a new new.txt, old_name.c renamed to new_name.c and
 * changed, nonl.txt without a final newline, a mode change on script.sh,
 * "sp ace.txt" (git adds a tab after such names) and a new "tab\tname.txt"
 * (git quotes it). */
static const char GIT_DIFF[] =
    "diff --git a/a.py b/a.py\n"
    "index 4083766..ce1419a 100644\n"
    "--- a/a.py\n"
    "+++ b/a.py\n"
    "@@ -1,10 +1,11 @@\n"
    " line1\n"
    " line2\n"
    "-line3\n"
    "+LINE3\n"
    " line4\n"
    " line5\n"
    " line6\n"
    " line7\n"
    " line8\n"
    "+added\n"
    " line9\n"
    " line10\n"
    "diff --git a/gone.txt b/gone.txt\n"
    "deleted file mode 100644\n"
    "index d498ffc..0000000\n"
    "--- a/gone.txt\n"
    "+++ /dev/null\n"
    "@@ -1,2 +0,0 @@\n"
    "-keep\n"
    "-old\n"
    "diff --git a/img.bin b/img.bin\n"
    "index 8352675..1592e5c 100644\n"
    "Binary files a/img.bin and b/img.bin differ\n"
    "diff --git a/new.txt b/new.txt\n"
    "new file mode 100644\n"
    "index 0000000..92d5444\n"
    "--- /dev/null\n"
    "+++ b/new.txt\n"
    "@@ -0,0 +1 @@\n"
    "+fresh\n"
    "diff --git a/old_name.c b/new_name.c\n"
    "similarity index 82%\n"
    "rename from old_name.c\n"
    "rename to new_name.c\n"
    "index 2019eda..71afbf1 100644\n"
    "--- a/old_name.c\n"
    "+++ b/new_name.c\n"
    "@@ -4,4 +4,4 @@ three\n"
    " four\n"
    " five\n"
    " six\n"
    "-seven\n"
    "+SEVEN\n"
    "diff --git a/nonl.txt b/nonl.txt\n"
    "index 0a207c0..817f660 100644\n"
    "--- a/nonl.txt\n"
    "+++ b/nonl.txt\n"
    "@@ -1,2 +1,2 @@\n"
    " a\n"
    "-b\n"
    "\\ No newline at end of file\n"
    "+c\n"
    "\\ No newline at end of file\n"
    "diff --git a/script.sh b/script.sh\n"
    "old mode 100644\n"
    "new mode 100755\n"
    "diff --git a/sp ace.txt b/sp ace.txt\n"
    "index bca70f3..8a08eba 100644\n"
    "--- a/sp ace.txt\t\n"
    "+++ b/sp ace.txt\t\n"
    "@@ -1 +1,2 @@\n"
    " q\n"
    "+r\n"
    "diff --git \"a/tab\\tname.txt\" \"b/tab\\tname.txt\"\n"
    "new file mode 100644\n"
    "index 0000000..718f4d2\n"
    "--- /dev/null\n"
    "+++ \"b/tab\\tname.txt\"\n"
    "@@ -0,0 +1 @@\n"
    "+t\n";

/* Parses a literal; asserts success. */
static struct udiff *parse_ok(const char *text, size_t len)
{
    struct udiff *d = (struct udiff *)1;
    struct udiff_err e;

    if (udiff_parse(text, len, &d, &e) != 0)
        fail_msg("parse failed at line %ld: %s", e.line, e.msg);
    assert_non_null(d);
    assert_true(d->nfiles >= 1);
    return d;
}

/* Parses a literal; asserts failure at line with a message containing want. */
static void parse_bad(const char *text, size_t len, long line, const char *want)
{
    struct udiff *d = (struct udiff *)1;
    struct udiff_err e;

    assert_int_equal(udiff_parse(text, len, &d, &e), -1);
    assert_null(d);
    if (e.line != line || strstr(e.msg, want) == NULL)
        fail_msg("want line %ld '%s', got line %ld '%s'", line, want, e.line, e.msg);
}

#define OK(lit)              parse_ok(lit, sizeof(lit) - 1)
#define BAD(lit, line, want) parse_bad(lit, sizeof(lit) - 1, line, want)

static void assert_name(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void assert_file(const struct udiff_file *f, const char *old_path, const char *new_path,
                        unsigned flags, size_t nhunks)
{
    assert_name(f->old_path, old_path);
    assert_name(f->new_path, new_path);
    assert_int_equal(f->flags, flags);
    assert_int_equal(f->nhunks, nhunks);
}

static void assert_line(const struct udiff_line *l, char kind, const char *text, long old_no,
                        long new_no)
{
    assert_int_equal(l->kind, kind);
    assert_int_equal(l->len, strlen(text));
    assert_memory_equal(l->text, text, l->len);
    assert_int_equal(l->old_no, old_no);
    assert_int_equal(l->new_no, new_no);
}

static void test_git_files(void **state)
{
    struct udiff *d = OK(GIT_DIFF);

    (void)state;
    assert_int_equal(d->nfiles, 9);
    assert_file(&d->files[0], "a.py", "a.py", 0, 1);
    assert_file(&d->files[1], "gone.txt", NULL, UDIFF_DELETED, 1);
    assert_file(&d->files[2], "img.bin", "img.bin", UDIFF_BINARY, 0);
    assert_file(&d->files[3], NULL, "new.txt", UDIFF_NEW, 1);
    assert_file(&d->files[4], "old_name.c", "new_name.c", UDIFF_RENAMED, 1);
    assert_file(&d->files[5], "nonl.txt", "nonl.txt", 0, 1);
    assert_file(&d->files[6], "script.sh", "script.sh", 0, 0);
    assert_file(&d->files[7], "sp ace.txt", "sp ace.txt", 0, 1);
    assert_file(&d->files[8], NULL, "tab\tname.txt", UDIFF_NEW, 1);
    assert_ptr_equal(udiff_find(d, "new_name.c"), &d->files[4]);
    assert_ptr_equal(udiff_find(d, "gone.txt"), &d->files[1]);
    assert_null(udiff_find(d, "old_name.c"));
    udiff_free(d);
}

static void test_git_hunks(void **state)
{
    struct udiff *d = OK(GIT_DIFF);
    const struct udiff_hunk *h = &d->files[0].hunks[0];

    (void)state;
    assert_int_equal(h->old_start, 1);
    assert_int_equal(h->old_count, 10);
    assert_int_equal(h->new_start, 1);
    assert_int_equal(h->new_count, 11);
    assert_int_equal(h->nlines, 12);
    assert_line(&h->lines[0], ' ', "line1", 1, 1);
    assert_line(&h->lines[2], '-', "line3", 3, 0);
    assert_line(&h->lines[3], '+', "LINE3", 0, 3);
    assert_line(&h->lines[4], ' ', "line4", 4, 4);
    assert_line(&h->lines[9], '+', "added", 0, 9);
    assert_line(&h->lines[11], ' ', "line10", 10, 11);
    assert_int_equal(h->section_len, 0);
    /* The hunk's span runs from its header through its last line. */
    assert_memory_equal(GIT_DIFF + h->offset, "@@ -1,10 +1,11 @@\n line1\n", 25);
    assert_memory_equal(GIT_DIFF + h->offset + h->len - 8, " line10\n", 8);

    h = &d->files[1].hunks[0];
    assert_int_equal(h->new_start, 0);
    assert_int_equal(h->new_count, 0);
    assert_line(&h->lines[1], '-', "old", 2, 0);

    h = &d->files[3].hunks[0];
    assert_int_equal(h->old_count, 0);
    assert_int_equal(h->new_count, 1);      /* "+1": the count defaults to 1 */
    assert_line(&h->lines[0], '+', "fresh", 0, 1);

    h = &d->files[4].hunks[0];
    assert_int_equal(h->section_len, 5);
    assert_memory_equal(h->section, "three", 5);
    assert_line(&h->lines[0], ' ', "four", 4, 4);
    assert_line(&h->lines[4], '+', "SEVEN", 0, 7);

    h = &d->files[5].hunks[0];
    assert_int_equal(h->nlines, 3);
    assert_int_equal(h->lines[0].no_newline, 0);
    assert_int_equal(h->lines[1].no_newline, 1);
    assert_int_equal(h->lines[2].no_newline, 1);
    assert_line(&h->lines[2], '+', "c", 0, 2);
    udiff_free(d);
}

/* Each file's span is its section: the spans tile the input, and a span
 * parsed alone gives the same file. */
static void test_git_spans(void **state)
{
    struct udiff *d = OK(GIT_DIFF), *one;
    size_t i, at = 0;

    (void)state;
    for (i = 0; i < d->nfiles; i++) {
        assert_int_equal(d->files[i].offset, at);
        assert_memory_equal(GIT_DIFF + at, "diff --git ", 11);
        at += d->files[i].len;
        one = parse_ok(GIT_DIFF + d->files[i].offset, d->files[i].len);
        assert_int_equal(one->nfiles, 1);
        assert_file(&one->files[0], d->files[i].old_path, d->files[i].new_path,
                    d->files[i].flags, d->files[i].nhunks);
        assert_int_equal(one->files[0].len, d->files[i].len);
        udiff_free(one);
    }
    assert_int_equal(at, sizeof(GIT_DIFF) - 1);
    udiff_free(d);
}

/* GNU `diff -u` with time stamps, omitted counts and a section heading. */
static void test_plain_diff(void **state)
{
    struct udiff *d = OK("--- old/x.c\t2024-05-01 10:00:00.000000000 +0200\n"
                         "+++ new/x.c\t2024-05-02 10:00:00.000000000 +0200\n"
                         "@@ -3 +3 @@ int main(void)\n"
                         "-a\n"
                         "+b\n"
                         "@@ -10,2 +10,3 @@\n"
                         " c\n"
                         "+d\n"
                         " e\n");
    const struct udiff_hunk *h;

    (void)state;
    assert_int_equal(d->nfiles, 1);
    assert_file(&d->files[0], "old/x.c", "new/x.c", 0, 2);
    h = &d->files[0].hunks[0];
    assert_int_equal(h->old_count, 1);
    assert_int_equal(h->new_count, 1);
    assert_int_equal(h->section_len, strlen("int main(void)"));
    assert_memory_equal(h->section, "int main(void)", h->section_len);
    assert_line(&h->lines[1], '+', "b", 0, 3);
    h = &d->files[0].hunks[1];
    assert_int_equal(h->nlines, 3);
    assert_line(&h->lines[2], ' ', "e", 11, 12);
    udiff_free(d);
}

/* Two files from `diff -ru`, names with "a/" and "b/" stripped. */
static void test_plain_two_files(void **state)
{
    struct udiff *d = OK("diff -ru a/p.py b/p.py\n"
                         "--- a/p.py\n"
                         "+++ b/p.py\n"
                         "@@ -1 +1 @@\n"
                         "-x\n"
                         "+y\n"
                         "--- a/q.py\n"
                         "+++ b/q.py\n"
                         "@@ -1,0 +2 @@\n"
                         "+z\n");

    (void)state;
    assert_int_equal(d->nfiles, 2);
    assert_file(&d->files[0], "p.py", "p.py", 0, 1);
    assert_file(&d->files[1], "q.py", "q.py", 0, 1);
    assert_int_equal(d->files[1].offset, strlen("diff -ru a/p.py b/p.py\n--- a/p.py\n"
                                                "+++ b/p.py\n@@ -1 +1 @@\n-x\n+y\n"));
    assert_line(&d->files[1].hunks[0].lines[0], '+', "z", 0, 2);
    udiff_free(d);
}

/* Bare hunks make one unnamed file; an empty line is an empty context line
 * (as GNU patch reads it); CRLF line ends stay in the texts. */
static void test_bare_hunks(void **state)
{
    struct udiff *d = OK("@@ -1,3 +1,3 @@\r\n"
                         " a\r\n"
                         "\n"
                         "-b\r\n"
                         "+c\r\n");
    const struct udiff_hunk *h = &d->files[0].hunks[0];

    (void)state;
    assert_int_equal(d->nfiles, 1);
    assert_file(&d->files[0], NULL, NULL, 0, 1);
    assert_int_equal(h->nlines, 4);
    assert_line(&h->lines[0], ' ', "a\r", 1, 1);
    assert_line(&h->lines[1], ' ', "", 2, 2);
    assert_line(&h->lines[3], '+', "c\r", 0, 3);
    udiff_free(d);
    /* The same in a CRLF diff: a blank context line whose space an editor
     * stripped is "\r" alone, and keeps its line end. */
    d = OK("@@ -1,3 +1,3 @@\r\n a\r\n\r\n-b\r\n+c\r\n");
    h = &d->files[0].hunks[0];
    assert_int_equal(h->nlines, 4);
    assert_line(&h->lines[1], ' ', "\r", 2, 2);
    assert_line(&h->lines[3], '+', "c\r", 0, 3);
    udiff_free(d);
}

/* `git show`: the commit message before the first "diff" is ignored; blank
 * lines between files are allowed. */
static void test_preamble(void **state)
{
    struct udiff *d = OK("commit 0123456789abcdef\n"
                         "Author: A <a@b>\n"
                         "\n"
                         "    fix -- it\n"
                         "\n"
                         "diff --git a/x b/x\n"
                         "--- a/x\n"
                         "+++ b/x\n"
                         "@@ -1 +1 @@\n"
                         "-1\n"
                         "+2\n"
                         "\n");

    (void)state;
    assert_int_equal(d->nfiles, 1);
    assert_int_equal(d->files[0].offset, strlen("commit 0123456789abcdef\nAuthor: A <a@b>\n\n"
                                                "    fix -- it\n\n"));
    assert_file(&d->files[0], "x", "x", 0, 1);
    udiff_free(d);
}

/* A pure copy (no hunk) and a pure rename with a quoted name. */
static void test_copy_rename(void **state)
{
    struct udiff *d = OK("diff --git a/x.c b/y.c\n"
                         "similarity index 100%\n"
                         "copy from x.c\n"
                         "copy to y.c\n"
                         "diff --git a/p b/q r\n"
                         "similarity index 100%\n"
                         "rename from p\n"
                         "rename to \"q\\tr\"\n");

    (void)state;
    assert_int_equal(d->nfiles, 2);
    assert_file(&d->files[0], "x.c", "y.c", UDIFF_COPIED, 0);
    assert_file(&d->files[1], "p", "q\tr", UDIFF_RENAMED, 0);
    udiff_free(d);
}

/* git 2.39: a new symbolic link, a link given a new target, a file turned
 * into a link (deleted, then new), a mode change to 100755 and a new file
 * whose mode ends in the digits of a link's without being one. */
static void test_symlink_modes(void **state)
{
    struct udiff *d = OK("diff --git a/g b/g\n"
                         "new file mode 120000\n"
                         "index 0000000..3594e94\n"
                         "--- /dev/null\n"
                         "+++ b/g\n"
                         "@@ -0,0 +1 @@\n"
                         "+/etc/passwd\n"
                         "\\ No newline at end of file\n"
                         "diff --git a/h b/h\n"
                         "index 3594e94..e5e29bb 120000\r\n"
                         "--- a/h\n"
                         "+++ b/h\n"
                         "@@ -1 +1 @@\n"
                         "-/etc/passwd\n"
                         "+/etc/shadow\n"
                         "diff --git a/t b/t\n"
                         "deleted file mode 100644\n"
                         "--- a/t\n"
                         "+++ /dev/null\n"
                         "@@ -1 +0,0 @@\n"
                         "-hi\n"
                         "diff --git a/t b/t\n"
                         "new file mode 120000\n"
                         "--- /dev/null\n"
                         "+++ b/t\n"
                         "@@ -0,0 +1 @@\n"
                         "+/root/.ssh/id_rsa\n"
                         "diff --git a/x.sh b/x.sh\n"
                         "old mode 100644\n"
                         "new mode 100755\n"
                         "diff --git a/m b/m\n"
                         "new file mode 1120000\n"
                         "--- /dev/null\n"
                         "+++ b/m\n"
                         "@@ -0,0 +1 @@\n"
                         "+m\n");

    (void)state;
    assert_int_equal(d->nfiles, 6);
    assert_file(&d->files[0], NULL, "g", UDIFF_NEW | UDIFF_SYMLINK, 1);
    assert_file(&d->files[1], "h", "h", UDIFF_SYMLINK, 1);
    assert_file(&d->files[2], "t", NULL, UDIFF_DELETED, 1);
    assert_file(&d->files[3], NULL, "t", UDIFF_NEW | UDIFF_SYMLINK, 1);
    assert_file(&d->files[4], "x.sh", "x.sh", 0, 0);
    assert_file(&d->files[5], NULL, "m", UDIFF_NEW, 1);
    udiff_free(d);
}

static void test_errors_counts(void **state)
{
    (void)state;
    BAD("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n", 7, "ends inside the hunk at line 3");
    BAD("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n@@ -9 +9 @@\n-d\n+e\n", 7,
        "fewer lines than its header says");
    BAD("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n+c\n+d\n", 6, "more lines than its header says");
    BAD("--- a/x\n+++ b/x\n@@ -1,2 +1 @@\n-b\n+c\n+d\n", 6, "more lines than its header");
    BAD("--- a/x\n+++ b/x\n@@ -1 +1 @@\n\\ No newline at end of file\n-b\n+c\n", 4,
        "fewer lines");
}

static void test_errors_garbage(void **state)
{
    (void)state;
    BAD("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n+c\nhello\n@@ -5 +5 @@\n-b\n+c\n", 6,
        "unexpected line between hunks");
    BAD("diff --git a/x b/x\nwhat is this\n--- a/x\n+++ b/x\n", 2,
        "unexpected line in a file header");
    BAD("diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n", 2, "without '---' and '+++'");
    BAD("--- a/x\n+++ b/x\nhello\n", 3, "expected a hunk header");
    BAD("--- a/x\n+++ b/x\n", 3, "no hunk after");
    BAD("--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n", 1, "both sides are /dev/null");
    BAD("just some text\n", 1, "no file header or hunk found");
    BAD("", 1, "no file header or hunk found");
    BAD("--- \"a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", 1, "malformed quoted file name");
    BAD("Binary files a/x and b/x differ\n@@ -1 +1 @@\n-a\n+b\n", 2,
        "a binary file has no hunks");
    BAD("diff --git a/x b/x\nindex 1..2 100644\nBinary files a/x and b/x differ\n"
        "@@ -1 +1 @@\n-a\n+b\n", 4, "without '---' and '+++'");
}

static void test_errors_headers(void **state)
{
    (void)state;
    BAD("@@ -1 +1 @\n-a\n+b\n", 1, "malformed hunk header");
    BAD("@@ -1, +1 @@\n-a\n+b\n", 1, "malformed hunk header");
    BAD("@@ -x +1 @@\n-a\n+b\n", 1, "malformed hunk header");
    BAD("@@ -1 +1000000000 @@\n-a\n+b\n", 1, "larger than 999999999");
    BAD("@@ -99999999999999999999999 +1 @@\n-a\n+b\n", 1, "larger than");
    BAD("@@ -0,1 +1 @@\n-a\n+b\n", 1, "starts at line 0");
    BAD("@@ -1,0 +1,0 @@\n", 1, "empty hunk");
    BAD("@@ -5 +5 @@\n-a\n+b\n@@ -2 +2 @@\n-a\n+b\n", 4, "out of order");
    BAD("@@ -1,3 +1,3 @@\n a\n b\n c\n@@ -3 +3 @@\n-a\n+b\n", 5, "overlapping");
}

static void test_errors_input(void **state)
{
    static const char nul[] = "@@ -1 +1 @@\n-a\0\n+b\n";
    struct udiff *d = (struct udiff *)1;
    struct udiff_err e;
    char *big;

    (void)state;
    parse_bad(nul, sizeof(nul) - 1, 0, "NUL byte");
    big = malloc(UDIFF_MAX + 1);
    assert_non_null(big);
    memset(big, '+', UDIFF_MAX + 1);
    parse_bad(big, UDIFF_MAX + 1, 0, "longer than");
    free(big);
    /* err may be NULL. */
    assert_int_equal(udiff_parse("x", 1, &d, NULL), -1);
    assert_null(d);
    e.line = 7;
    assert_int_equal(udiff_parse(NULL, 0, &d, &e), -1);
    assert_int_equal(e.line, 1);
}

/* UDIFF_PATH_MAX bounds a name, not the bytes of its header line: a time
 * stamp after it, or git's quoting of its bytes as octal escapes, does not
 * count. */
static void test_limit_names(void **state)
{
    enum { NAME = UDIFF_PATH_MAX - 2, ESCAPED = (UDIFF_PATH_MAX - 2) / 2 };
    size_t cap = 16 * UDIFF_PATH_MAX, n = 0;
    char *text = malloc(cap), *want = malloc(UDIFF_PATH_MAX + 1);
    struct udiff *d;

    (void)state;
    assert_non_null(text);
    assert_non_null(want);
    /* A name of UDIFF_PATH_MAX bytes ("a/" and NAME), then a time stamp. */
    memset(want, 'n', NAME);
    want[NAME] = '\0';
    n = (size_t)snprintf(text, cap, "--- a/%s\t2026-11-24 06:00:00\n+++ b/%s\t"
                         "2026-11-24 06:00:01\n@@ -1 +1 @@\n-a\n+b\n", want, want);
    d = parse_ok(text, n);
    assert_string_equal(d->files[0].new_path, want);
    udiff_free(d);

    /* Both names quoted in git's header, each byte of "é" as "\303\251":
     * the line is over 4 x UDIFF_PATH_MAX bytes, each name within it. */
    n = (size_t)snprintf(text, cap, "diff --git \"a/");
    for (int i = 0; i < ESCAPED; i++)
        n += (size_t)snprintf(text + n, cap - n, "\\303\\251");
    n += (size_t)snprintf(text + n, cap - n, "\" \"b/");
    for (int i = 0; i < ESCAPED; i++)
        n += (size_t)snprintf(text + n, cap - n, "\\303\\251");
    n += (size_t)snprintf(text + n, cap - n, "\"\nnew file mode 100644\n");
    assert_true(n > 4 * UDIFF_PATH_MAX);
    d = parse_ok(text, n);
    assert_int_equal(strlen(d->files[0].new_path), 2 * ESCAPED);
    assert_memory_equal(d->files[0].new_path, "\xc3\xa9\xc3\xa9", 4);
    udiff_free(d);

    /* One byte more, quoted or not, is refused. */
    memset(want, 'n', NAME + 1);
    want[NAME + 1] = '\0';
    n = (size_t)snprintf(text, cap, "--- a/%s\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", want);
    parse_bad(text, n, 1, "file name longer than 4096 bytes");
    n = (size_t)snprintf(text, cap, "--- \"a/");
    for (int i = 0; i <= NAME; i++)
        n += (size_t)snprintf(text + n, cap - n, "\\156");
    n += (size_t)snprintf(text + n, cap - n, "\"\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
    parse_bad(text, n, 1, "file name longer than 4096 bytes");
    free(want);
    free(text);
}

/* UDIFF_LINES_MAX bounds the lines before they are stored. */
static void test_limit_lines(void **state)
{
    size_t n = UDIFF_LINES_MAX + 1, len, i;
    char head[64];
    int hl = snprintf(head, sizeof(head), "@@ -0,0 +1,%zu @@\n", n);
    char *text;

    (void)state;
    assert_true(hl > 0 && (size_t)hl < sizeof(head));
    len = (size_t)hl + 2 * n;
    text = malloc(len);
    assert_non_null(text);
    memcpy(text, head, (size_t)hl);
    for (i = 0; i < n; i++)
        memcpy(text + hl + 2 * i, "+\n", 2);
    parse_bad(text, len, UDIFF_LINES_MAX + 2, "more than 500000 hunk lines");
    free(text);
}

/* Every prefix of GIT_DIFF, copied to a buffer of exactly its length (ASan
 * catches a read past it), parses or fails cleanly; a prefix ending on a
 * line boundary inside a hunk body is an error with a message. */
static void test_prefixes(void **state)
{
    struct udiff *d;
    struct udiff_err e;
    size_t n, ok = 0, bad = 0;
    char *copy;

    (void)state;
    for (n = 1; n < sizeof(GIT_DIFF) - 1; n++) {
        copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, GIT_DIFF, n);
        if (udiff_parse(copy, n, &d, &e) == 0) {
            assert_true(d->nfiles >= 1 && d->nfiles <= 9);
            udiff_free(d);
            ok++;
        } else {
            assert_null(d);
            assert_true(e.msg[0] != '\0');
            bad++;
        }
        free(copy);
    }
    assert_true(ok > 0 && bad > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_git_files),
        cmocka_unit_test(test_git_hunks),
        cmocka_unit_test(test_git_spans),
        cmocka_unit_test(test_plain_diff),
        cmocka_unit_test(test_plain_two_files),
        cmocka_unit_test(test_bare_hunks),
        cmocka_unit_test(test_preamble),
        cmocka_unit_test(test_copy_rename),
        cmocka_unit_test(test_symlink_modes),
        cmocka_unit_test(test_errors_counts),
        cmocka_unit_test(test_errors_garbage),
        cmocka_unit_test(test_errors_headers),
        cmocka_unit_test(test_errors_input),
        cmocka_unit_test(test_limit_names),
        cmocka_unit_test(test_limit_lines),
        cmocka_unit_test(test_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
