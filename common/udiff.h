/* udiff.h - parses a unified diff into files, hunks and lines.
 *
 * Reads plain `diff -u` output and `git diff` output with any number of
 * files: "diff --git a/x b/x", the extended header lines ("index", "old
 * mode"/"new mode", "new file mode", "deleted file mode", "similarity
 * index"/"dissimilarity index", "rename from"/"rename to", "copy
 * from"/"copy to"), "Binary files ... differ" and "GIT binary patch"
 * (skipped), "--- a/x" / "+++ b/x" (with or without a tab and a time stamp
 * after the name; git's C-quoted names are unquoted), "/dev/null", hunk
 * headers "@@ -a[,b] +c[,d] @@[ section]" (a count defaults to 1), body
 * lines ' ', '-', '+' (an empty line is read as an empty context line) and
 * "\ No newline at end of file".
 *
 * Text before the first file header is a preamble and ignored (a commit
 * message from `git show`); a diff of bare hunks without "---"/"+++" is one
 * file without names. Anything else between or after hunks is an error, as
 * is a hunk holding more or fewer lines than its header says, hunks out of
 * order or overlapping, a number above UDIFF_NUM_MAX, a NUL byte, a diff
 * longer than UDIFF_MAX or past the other limits below, and a diff that
 * holds no file at all. Blank lines between files are allowed.
 *
 * File modes are read only to tell a symbolic link (git's mode 120000) from
 * a file: UDIFF_SYMLINK.
 *
 * Names: "a/" is stripped from an old name and "b/" from a new one when
 * present (git's default prefixes; --no-prefix and custom prefixes are not
 * recognised); /dev/null gives NULL.
 *
 *     struct udiff *d; struct udiff_err e;
 *     if (udiff_parse(text, len, &d, &e) < 0) printf("line %ld: %s\n", e.line, e.msg);
 *     else { ... d->files[0].hunks[0].lines[0] ...; udiff_free(d); }
 *
 * Line texts borrow the input: keep it alive and unchanged while the parsed
 * diff is used. Names are copies.
 */
#ifndef CI_UDIFF_H
#define CI_UDIFF_H

#include <stddef.h>

/* Largest diff accepted, bytes. */
#define UDIFF_MAX (8 * 1024 * 1024)
/* Most file sections in one diff. */
#define UDIFF_FILES_MAX 10000
/* Most hunks in one diff, all files together. */
#define UDIFF_HUNKS_MAX 100000
/* Most hunk body lines in one diff, all hunks together. */
#define UDIFF_LINES_MAX 500000
/* Largest line number or count in a hunk header. */
#define UDIFF_NUM_MAX 999999999L
/* Longest file name, bytes. */
#define UDIFF_PATH_MAX 4096

/* udiff_file.flags */
#define UDIFF_NEW     0x01   /* created: "new file mode" or "--- /dev/null" */
#define UDIFF_DELETED 0x02   /* removed: "deleted file mode" or "+++ /dev/null" */
#define UDIFF_RENAMED 0x04   /* "rename from"/"rename to" */
#define UDIFF_COPIED  0x08   /* "copy from"/"copy to" */
#define UDIFF_BINARY  0x10   /* "Binary files ... differ" or "GIT binary patch": no hunks */
#define UDIFF_SYMLINK 0x20   /* the new side is a symbolic link (mode 120000 in "new file
                              * mode", "new mode" or "index a..b"): hunks hold its target */

struct udiff_line {
    char kind;               /* ' ' context, '-' removed, '+' added */
    int no_newline;          /* 1 when "\ No newline at end of file" follows */
    const char *text;        /* borrowed from the input: the line after its
                              * prefix, without the '\n' (a '\r' stays) */
    size_t len;              /* bytes of text */
    long old_no;             /* 1-based line in the old file; 0 for '+' */
    long new_no;             /* 1-based line in the new file; 0 for '-' */
};

struct udiff_hunk {
    long old_start, old_count;   /* "-a,b": as written (a is 0 only when b is) */
    long new_start, new_count;   /* "+c,d" */
    const char *section;     /* borrowed: the text after the closing "@@ ",
                              * without '\n'; "" when none */
    size_t section_len;
    size_t offset, len;      /* byte span of the hunk in the input: header
                              * through its last line (and its '\n') */
    struct udiff_line *lines;    /* borrowed from the udiff: nlines lines */
    size_t nlines;
};

struct udiff_file {
    char *old_path;          /* owned by the udiff: the old name, "a/"
                              * stripped; NULL for /dev/null or no name */
    char *new_path;          /* likewise, "b/" stripped */
    unsigned flags;          /* UDIFF_NEW | UDIFF_DELETED | ... */
    size_t offset, len;      /* byte span of this file's section in the
                              * input, from its first header line (or first
                              * hunk) to the next section or the end: that
                              * slice alone is a valid one-file diff */
    struct udiff_hunk *hunks;    /* borrowed from the udiff: nhunks hunks */
    size_t nhunks;
};

struct udiff {
    struct udiff_file *files;    /* nfiles >= 1, in input order */
    size_t nfiles;
    /* Private: the arrays files' hunks and hunks' lines point into. */
    struct udiff_hunk *hunk_pool;
    struct udiff_line *line_pool;
};

struct udiff_err {
    long line;               /* 1-based line of the input at fault; 0 when
                              * the whole input is (too long, NUL byte) */
    char msg[160];           /* what is wrong, NUL-terminated */
};

/* Parses text[0..len). Returns 0 and *out (owns; udiff_free), or -1 with
 * *out NULL and the reason in *err (err may be NULL). Out of memory is -1
 * with "out of memory". text need not be NUL-terminated. */
int udiff_parse(const char *text, size_t len, struct udiff **out, struct udiff_err *err);

/* Frees a parsed diff and its names. Accepts NULL. */
void udiff_free(struct udiff *d);

/* The file section whose new name (or, for a deleted file, old name) equals
 * path, or NULL. Borrowed from d. */
const struct udiff_file *udiff_find(const struct udiff *d, const char *path);

#endif
