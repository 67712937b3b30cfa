/* udiff.c - unified diff parser; see udiff.h.
 *
 * One pass over the input, one line at a time. The parser is in one of
 * these states between lines:
 *   NONE    before the first file: the preamble, ignored;
 *   HEADER  after a "diff ..." line: extended header lines until "---";
 *   READY   after "---"/"+++": a hunk must follow;
 *   HUNKS   after a hunk: another hunk, a new file or blank lines;
 *   BINARY  after "GIT binary patch": lines skipped until the next "diff".
 * A hunk's body is read whole by read_hunk, counting the old and new lines
 * its header announces. Files, hunks and lines go into three growing
 * arrays; the pointers between them are set once, at the end, when the
 * arrays no longer move.
 */
#include "common/udiff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state { ST_NONE, ST_HEADER, ST_READY, ST_HUNKS, ST_BINARY };

struct line {
    const char *p;           /* first byte */
    size_t n;                /* bytes, excluding the '\n' */
    size_t next;             /* offset of the line after it */
};

struct parser {
    const char *t;           /* borrowed: the input */
    size_t len;
    size_t pos;              /* offset of the next unread line */
    long lineno;             /* 1-based number of the next unread line */
    struct udiff *d;
    size_t files_cap, nhunks, hunks_cap, nlines, lines_cap;
    enum state st;
    long old_end, new_end;   /* current file: 0-based end of the last hunk */
    struct udiff_err *err;
};

static int fail(struct parser *ps, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, long line, const char *fmt, ...)
{
    va_list ap;

    if (ps->err != NULL) {
        ps->err->line = line;
        va_start(ap, fmt);
        vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reads the line at pos without consuming it. Returns 0, or -1 at the end. */
static int peek(const struct parser *ps, struct line *l)
{
    const char *nl;

    if (ps->pos >= ps->len)
        return -1;
    l->p = ps->t + ps->pos;
    nl = memchr(l->p, '\n', ps->len - ps->pos);
    l->n = nl != NULL ? (size_t)(nl - l->p) : ps->len - ps->pos;
    l->next = ps->pos + l->n + (nl != NULL ? 1 : 0);
    return 0;
}

static void skip(struct parser *ps, const struct line *l)
{
    ps->pos = l->next;
    ps->lineno++;
}

static int starts(const struct line *l, const char *lit)
{
    size_t n = strlen(lit);

    return l->n >= n && memcmp(l->p, lit, n) == 0;
}

/* A line holding nothing but an optional '\r'. */
static int blank(const struct line *l)
{
    return l->n == 0 || (l->n == 1 && l->p[0] == '\r');
}

/* Grows *arr (elements of size sz) to hold one more than n, within max.
 * Returns 0, or -1 (message set) past max or out of memory. */
static int grow(struct parser *ps, void **arr, size_t *cap, size_t n, size_t sz, size_t max,
                const char *what)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    if (n >= max)
        return fail(ps, ps->lineno, "more than %zu %s", max, what);
    ncap = *cap == 0 ? 16 : *cap * 2;
    if (ncap > max)
        ncap = max;
    p = realloc(*arr, ncap * sz);
    if (p == NULL)
        return fail(ps, ps->lineno, "out of memory");
    *arr = p;
    *cap = ncap;
    return 0;
}

static struct udiff_file *cur_file(struct parser *ps)
{
    return ps->d->nfiles > 0 ? &ps->d->files[ps->d->nfiles - 1] : NULL;
}

/* Bytes a quoted name of UDIFF_PATH_MAX bytes takes at most: each byte as
 * an octal escape ("\303"), and the two quotes. */
#define UDIFF_QUOTED_MAX (4 * UDIFF_PATH_MAX + 2)

/* Git's C-style quoting: "\t", "\n", "\\", "\"", octal "\ooo"... Reads the
 * quoted name at p (p[0] == '"', n bytes available) into out (at least n
 * bytes). Returns the bytes used including both quotes, or 0 when
 * malformed. */
static size_t unquote(const char *p, size_t n, char *out, size_t *out_len)
{
    static const char esc_in[] = "abfnrtv\\\"";
    static const char esc_out[] = "\a\b\f\n\r\t\v\\\"";
    size_t i = 1, o = 0;
    const char *e;
    int v, k;

    while (i < n && p[i] != '"') {
        if (p[i] != '\\') {
            out[o++] = p[i++];
            continue;
        }
        if (++i >= n)
            return 0;
        if (p[i] >= '0' && p[i] <= '3') {
            for (v = 0, k = 0; k < 3; k++, i++) {
                if (i >= n || p[i] < '0' || p[i] > '7')
                    return 0;
                v = v * 8 + (p[i] - '0');
            }
            out[o++] = (char)v;
            continue;
        }
        e = memchr(esc_in, p[i], sizeof(esc_in) - 1);
        if (e == NULL)
            return 0;
        out[o++] = esc_out[e - esc_in];
        i++;
    }
    if (i >= n)
        return 0;
    *out_len = o;
    return i + 1;
}

/* Copies the name p[0..n) into *out (owns): unquoted when it starts with
 * '"', else up to a tab (a time stamp follows) without a trailing '\r';
 * "/dev/null" gives NULL; prefix ("a/", "b/" or NULL) is stripped. *used
 * (may be NULL) receives the bytes the name took. Returns 0 or -1. */
static int take_name(struct parser *ps, const char *p, size_t n, const char *prefix, char **out,
                     size_t *used)
{
    char *buf;
    size_t blen, plen = prefix != NULL ? strlen(prefix) : 0;
    const char *tab;

    *out = NULL;
    if (n > 0 && p[0] == '"') {
        /* The closing quote comes within UDIFF_QUOTED_MAX bytes, or the
         * name unquoted is longer than UDIFF_PATH_MAX. */
        size_t room = n < UDIFF_QUOTED_MAX ? n : UDIFF_QUOTED_MAX;

        if ((buf = malloc(room + 1)) == NULL)
            return fail(ps, ps->lineno, "out of memory");
        blen = 0;
        n = unquote(p, room, buf, &blen);
        if (n == 0) {
            free(buf);
            if (room < UDIFF_QUOTED_MAX)
                return fail(ps, ps->lineno, "malformed quoted file name");
            return fail(ps, ps->lineno, "file name longer than %d bytes", UDIFF_PATH_MAX);
        }
    } else {
        /* The name ends at a tab (a time stamp follows) or the line's end. */
        tab = memchr(p, '\t', n);
        if (tab != NULL)
            n = (size_t)(tab - p);
        else if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > UDIFF_PATH_MAX)
            return fail(ps, ps->lineno, "file name longer than %d bytes", UDIFF_PATH_MAX);
        if ((buf = malloc(n + 1)) == NULL)
            return fail(ps, ps->lineno, "out of memory");
        memcpy(buf, p, n);
        blen = n;
    }
    if (used != NULL)
        *used = n;
    buf[blen] = '\0';
    if (blen > UDIFF_PATH_MAX) {
        free(buf);
        return fail(ps, ps->lineno, "file name longer than %d bytes", UDIFF_PATH_MAX);
    }
    if (blen == 0 || memchr(buf, '\0', blen) != NULL) {
        free(buf);
        return fail(ps, ps->lineno, "empty or invalid file name");
    }
    if (strcmp(buf, "/dev/null") == 0) {
        free(buf);
        return 0;
    }
    if (plen > 0 && blen > plen && memcmp(buf, prefix, plen) == 0)
        memmove(buf, buf + plen, blen - plen + 1);
    *out = buf;
    return 0;
}

/* take_name for an old name (prefix "a/") and a new one ("b/"): both, or
 * neither (-1). */
static int take_names(struct parser *ps, const char *a_p, size_t a_n, const char *b_p,
                      size_t b_n, char **a, char **b)
{
    if (take_name(ps, a_p, a_n, "a/", a, NULL) < 0)
        return -1;
    if (take_name(ps, b_p, b_n, "b/", b, NULL) < 0) {
        free(*a);
        *a = NULL;
        return -1;
    }
    return 0;
}

static void set_name(char **slot, char *name)
{
    free(*slot);
    *slot = name;
}

/* Ends the current file: checks it is complete and settles its names from
 * its flags. */
static int end_file(struct parser *ps)
{
    struct udiff_file *f = cur_file(ps);

    if (f == NULL)
        return 0;
    if (ps->st == ST_READY)
        return fail(ps, ps->lineno, "no hunk after the '+++' line");
    f->len = ps->pos - f->offset;
    if (f->flags & UDIFF_NEW)
        set_name(&f->old_path, NULL);
    if (f->flags & UDIFF_DELETED)
        set_name(&f->new_path, NULL);
    return 0;
}

/* Ends the current file and opens a new one whose section starts at pos. */
static int new_file(struct parser *ps, enum state st)
{
    struct udiff *d = ps->d;

    if (end_file(ps) < 0 ||
        grow(ps, (void **)&d->files, &ps->files_cap, d->nfiles, sizeof(*d->files),
             UDIFF_FILES_MAX, "files") < 0)
        return -1;
    memset(&d->files[d->nfiles], 0, sizeof(d->files[0]));
    d->files[d->nfiles].offset = ps->pos;
    d->nfiles++;
    ps->st = st;
    ps->old_end = 0;
    ps->new_end = 0;
    return 0;
}

/* "diff --git a/x b/y": names as git would guess them; later "---"/"+++"
 * or rename lines win. Unparseable names are left NULL. */
static int git_names(struct parser *ps, const struct line *l, struct udiff_file *f)
{
    const char *r = l->p + 11, *sp;
    size_t n = l->n - 11, used, half;
    char *a = NULL, *b = NULL;

    if (n > 0 && r[n - 1] == '\r')
        n--;
    if (n > 0 && r[0] == '"') {
        if (take_name(ps, r, n, "a/", &a, &used) < 0)
            return -1;
        if (used + 1 < n && r[used] == ' ' && take_name(ps, r + used + 1, n - used - 1, "b/",
                                                        &b, NULL) < 0) {
            free(a);
            return -1;
        }
    } else {
        /* Same name on both sides: "a/N b/N" splits in the middle. */
        half = (n - 1) / 2;
        if (n % 2 == 1 && n > 5 && r[half] == ' ' && memcmp(r, "a/", 2) == 0 &&
            memcmp(r + half + 1, "b/", 2) == 0 && memcmp(r + 2, r + half + 3, half - 2) == 0)
            sp = r + half;
        else
            sp = memmem(r, n, " b/", 3);
        if (sp == NULL)
            sp = memchr(r, ' ', n);
        if (sp == NULL)
            return 0;
        if (take_names(ps, r, (size_t)(sp - r), sp + 1, n - (size_t)(sp - r) - 1, &a, &b) < 0)
            return -1;
    }
    set_name(&f->old_path, a);
    set_name(&f->new_path, b);
    return 0;
}

/* "Binary files X and Y differ": names when none are known yet. */
static int binary_names(struct parser *ps, const struct line *l, struct udiff_file *f)
{
    const char *r = l->p + 13, *and;
    size_t n = l->n - 13;
    char *a = NULL, *b = NULL;

    f->flags |= UDIFF_BINARY;
    if (n > 0 && r[n - 1] == '\r')
        n--;
    if (n < 7 || memcmp(r + n - 7, " differ", 7) != 0)
        return fail(ps, ps->lineno, "malformed 'Binary files' line");
    n -= 7;
    and = memmem(r, n, " and ", 5);
    if (and == NULL)
        return fail(ps, ps->lineno, "malformed 'Binary files' line");
    if (f->old_path != NULL || f->new_path != NULL)
        return 0;
    if (take_names(ps, r, (size_t)(and - r), and + 5, n - (size_t)(and - r) - 5, &a, &b) < 0)
        return -1;
    if (a == NULL)
        f->flags |= UDIFF_NEW;
    if (b == NULL)
        f->flags |= UDIFF_DELETED;
    f->old_path = a;
    f->new_path = b;
    return 0;
}

/* "--- X" at l, "+++ Y" after it (the caller checked): both consumed. */
static int old_new_names(struct parser *ps, const struct line *l, struct udiff_file *f)
{
    struct line l2;
    char *a, *b;

    struct parser p2 = *ps;

    p2.pos = l->next;
    peek(&p2, &l2);
    if (take_names(ps, l->p + 4, l->n - 4, l2.p + 4, l2.n - 4, &a, &b) < 0)
        return -1;
    skip(ps, l);
    skip(ps, &l2);
    if (a == NULL)
        f->flags |= UDIFF_NEW;
    if (b == NULL)
        f->flags |= UDIFF_DELETED;
    if (a == NULL && b == NULL)
        return fail(ps, ps->lineno - 2, "both sides are /dev/null");
    set_name(&f->old_path, a);
    set_name(&f->new_path, b);
    ps->st = ST_READY;
    return 0;
}

/* A "--- " line followed by a "+++ " line. */
static int is_names_pair(const struct parser *ps, const struct line *l)
{
    struct parser p2 = *ps;
    struct line l2;

    if (!starts(l, "--- "))
        return 0;
    p2.pos = l->next;
    return peek(&p2, &l2) == 0 && starts(&l2, "+++ ");
}

/* Parses 1 to 9 digits at *s (before end) into *v. Returns 0, -1 when no
 * digit, -2 when too many. */
static int parse_num(const char **s, const char *end, long *v)
{
    const char *p = *s;
    long x = 0;

    if (p >= end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9') {
        if (x > UDIFF_NUM_MAX / 10 || x * 10 + (*p - '0') > UDIFF_NUM_MAX)
            return -2;
        x = x * 10 + (*p - '0');
        p++;
    }
    *v = x;
    *s = p;
    return 0;
}

/* "@@ -a[,b] +c[,d] @@[ section]" into h. */
static int parse_hunk_header(struct parser *ps, const struct line *l, struct udiff_hunk *h)
{
    const char *p = l->p + 3, *end = l->p + l->n;
    int rc = 0;

    h->old_count = 1;
    h->new_count = 1;
    if (p >= end || *p++ != '-' || (rc = parse_num(&p, end, &h->old_start)) < 0)
        goto bad;
    if (p < end && *p == ',' && (++p, rc = parse_num(&p, end, &h->old_count)) < 0)
        goto bad;
    if (end - p < 2 || p[0] != ' ' || p[1] != '+')
        goto bad;
    p += 2;
    if ((rc = parse_num(&p, end, &h->new_start)) < 0)
        goto bad;
    if (p < end && *p == ',' && (++p, rc = parse_num(&p, end, &h->new_count)) < 0)
        goto bad;
    if (end - p < 3 || memcmp(p, " @@", 3) != 0)
        goto bad;
    p += 3;
    if (p < end && *p == ' ')
        p++;
    if (end > p && end[-1] == '\r')
        end--;
    h->section = p < end ? p : "";
    h->section_len = p < end ? (size_t)(end - p) : 0;
    return 0;
bad:
    if (rc == -2)
        return fail(ps, ps->lineno, "number in hunk header larger than %ld", UDIFF_NUM_MAX);
    return fail(ps, ps->lineno, "malformed hunk header");
}

/* Appends one body line of kind k; a blank line is a context line whose
 * space was stripped, its text all of it (a CRLF diff's "\r"). */
static int add_line(struct parser *ps, const struct line *l, char k, long old_no, long new_no)
{
    int bare = blank(l);
    struct udiff_line *ln;

    if (grow(ps, (void **)&ps->d->line_pool, &ps->lines_cap, ps->nlines,
             sizeof(*ps->d->line_pool), UDIFF_LINES_MAX, "hunk lines") < 0)
        return -1;
    ln = &ps->d->line_pool[ps->nlines++];
    ln->kind = k;
    ln->no_newline = 0;
    ln->text = bare ? l->p : l->p + 1;
    ln->len = bare ? l->n : l->n - 1;
    ln->old_no = k == '+' ? 0 : old_no;
    ln->new_no = k == '-' ? 0 : new_no;
    return 0;
}

/* The hunk whose header is l (not yet consumed), with its whole body. */
static int read_hunk(struct parser *ps, const struct line *l)
{
    struct udiff_file *f = cur_file(ps);
    struct udiff_hunk *h;
    struct line b;
    long hline = ps->lineno, old_at, new_at, old_left, new_left, old_no, new_no;
    char k;

    if (grow(ps, (void **)&ps->d->hunk_pool, &ps->hunks_cap, ps->nhunks,
             sizeof(*ps->d->hunk_pool), UDIFF_HUNKS_MAX, "hunks") < 0)
        return -1;
    h = &ps->d->hunk_pool[ps->nhunks];
    memset(h, 0, sizeof(*h));
    if (parse_hunk_header(ps, l, h) < 0)
        return -1;
    if ((h->old_start == 0 && h->old_count != 0) || (h->new_start == 0 && h->new_count != 0))
        return fail(ps, hline, "hunk header starts at line 0 with a non-zero count");
    if (h->old_count == 0 && h->new_count == 0)
        return fail(ps, hline, "empty hunk");
    old_at = h->old_count != 0 ? h->old_start - 1 : h->old_start;
    new_at = h->new_count != 0 ? h->new_start - 1 : h->new_start;
    if ((f->nhunks > 0 && (old_at < ps->old_end || new_at < ps->new_end)))
        return fail(ps, hline, "hunk out of order or overlapping the one before");
    h->offset = ps->pos;
    ps->nhunks++;
    f->nhunks++;
    skip(ps, l);
    /* Lines are appended at nlines; the hunk finds them by its count. */
    old_no = old_at + 1;
    new_no = new_at + 1;
    for (old_left = h->old_count, new_left = h->new_count; old_left > 0 || new_left > 0;) {
        if (peek(ps, &b) < 0)
            return fail(ps, ps->lineno, "the diff ends inside the hunk at line %ld "
                        "(%ld old and %ld new lines missing)", hline, old_left, new_left);
        k = blank(&b) ? ' ' : b.p[0];
        if ((k == ' ' && (old_left == 0 || new_left == 0)) || (k == '-' && old_left == 0) ||
            (k == '+' && new_left == 0))
            return fail(ps, ps->lineno, "the hunk at line %ld has more lines than its header "
                        "says", hline);
        if (k != ' ' && k != '-' && k != '+')
            return fail(ps, ps->lineno, "the hunk at line %ld has fewer lines than its "
                        "header says (%ld old and %ld new lines missing)", hline, old_left,
                        new_left);
        if (add_line(ps, &b, k, old_no, new_no) < 0)
            return -1;
        h->nlines++;
        old_no += k != '+';
        new_no += k != '-';
        old_left -= k != '+';
        new_left -= k != '-';
        skip(ps, &b);
        if (peek(ps, &b) == 0 && starts(&b, "\\")) {
            ps->d->line_pool[ps->nlines - 1].no_newline = 1;
            skip(ps, &b);
        }
    }
    h->len = ps->pos - h->offset;
    ps->old_end = old_at + h->old_count;
    ps->new_end = new_at + h->new_count;
    ps->st = ST_HUNKS;
    return 0;
}

/* "rename from X", "rename to Y", "copy from X", "copy to Y". */
static int rename_line(struct parser *ps, const struct line *l, struct udiff_file *f)
{
    static const struct {
        const char *prefix;
        unsigned flag;
        int to;
    } kinds[] = {
        { "rename from ", UDIFF_RENAMED, 0 }, { "rename to ", UDIFF_RENAMED, 1 },
        { "copy from ", UDIFF_COPIED, 0 },    { "copy to ", UDIFF_COPIED, 1 },
    };
    size_t i, n;
    char *name;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (!starts(l, kinds[i].prefix))
            continue;
        n = strlen(kinds[i].prefix);
        if (take_name(ps, l->p + n, l->n - n, NULL, &name, NULL) < 0)
            return -1;
        f->flags |= kinds[i].flag;
        set_name(kinds[i].to ? &f->new_path : &f->old_path, name);
        return 0;
    }
    return fail(ps, ps->lineno, "unexpected line in a file header");
}

/* 1 when the line's last word (a '\r' aside) is git's mode of a symbolic
 * link: "new mode 120000", "index 3594e94..e5e29bb 120000". */
static int symlink_mode(const struct line *l)
{
    static const char mode[] = " 120000";
    size_t n = l->n, m = sizeof(mode) - 1;

    if (n > 0 && l->p[n - 1] == '\r')
        n--;
    return n >= m && memcmp(l->p + n - m, mode, m) == 0;
}

/* A line of the extended git header (state HEADER). */
static int header_line(struct parser *ps, const struct line *l, struct udiff_file *f)
{
    static const char *const ignored[] = {
        "old mode ", "similarity index ", "dissimilarity index ",
    };
    size_t i;

    for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        if (starts(l, ignored[i]))
            return 0;
    if (starts(l, "index ") || starts(l, "new mode ")) {
        if (symlink_mode(l))
            f->flags |= UDIFF_SYMLINK;
    } else if (starts(l, "new file mode ")) {
        f->flags |= UDIFF_NEW;
        if (symlink_mode(l))
            f->flags |= UDIFF_SYMLINK;
    } else if (starts(l, "deleted file mode ")) {
        f->flags |= UDIFF_DELETED;
    } else if (starts(l, "rename ") || starts(l, "copy ")) {
        return rename_line(ps, l, f);
    } else if (starts(l, "Binary files ")) {
        return binary_names(ps, l, f);
    } else if (starts(l, "GIT binary patch")) {
        f->flags |= UDIFF_BINARY;
        ps->st = ST_BINARY;
    } else {
        return fail(ps, ps->lineno, "unexpected line in a file header");
    }
    return 0;
}

/* One line outside hunk bodies. Consumes it (and more for a hunk). */
static int top_line(struct parser *ps, const struct line *l)
{
    if (starts(l, "diff ") && ps->st != ST_READY) {
        if (new_file(ps, ST_HEADER) < 0)
            return -1;
        if (starts(l, "diff --git ") && git_names(ps, l, cur_file(ps)) < 0)
            return -1;
        skip(ps, l);
        return 0;
    }
    if (ps->st == ST_BINARY) {
        skip(ps, l);
        return 0;
    }
    if (is_names_pair(ps, l) && ps->st != ST_READY) {
        if (ps->st != ST_HEADER && new_file(ps, ST_READY) < 0)
            return -1;
        return old_new_names(ps, l, cur_file(ps));
    }
    if (starts(l, "@@ ")) {
        if (ps->st == ST_NONE && new_file(ps, ST_READY) < 0)
            return -1;
        if (ps->st == ST_HEADER)
            return fail(ps, ps->lineno, "hunk without '---' and '+++' lines");
        if (ps->st == ST_HUNKS && (cur_file(ps)->flags & UDIFF_BINARY))
            return fail(ps, ps->lineno, "a hunk after \"Binary files ... differ\": a binary "
                        "file has no hunks");
        return read_hunk(ps, l);
    }
    if (starts(l, "Binary files ") && (ps->st == ST_NONE || ps->st == ST_HUNKS)) {
        if (new_file(ps, ST_HUNKS) < 0 || binary_names(ps, l, cur_file(ps)) < 0)
            return -1;
        skip(ps, l);
        return 0;
    }
    switch (ps->st) {
    case ST_NONE:
        break;           /* preamble */
    case ST_HEADER:
        if (!blank(l) && header_line(ps, l, cur_file(ps)) < 0)
            return -1;
        break;
    case ST_READY:
        return fail(ps, ps->lineno, "expected a hunk header ('@@ ... @@')");
    case ST_HUNKS:
        if (blank(l))
            break;
        if (l->p[0] == ' ' || l->p[0] == '-' || l->p[0] == '+')
            return fail(ps, ps->lineno, "a hunk has more lines than its header says");
        return fail(ps, ps->lineno, "unexpected line between hunks");
    case ST_BINARY:
        break;
    }
    skip(ps, l);
    return 0;
}

/* Points files at their hunks and hunks at their lines, now the arrays no
 * longer move. */
static void link_pools(struct udiff *d)
{
    size_t i, j, h = 0, ln = 0;

    for (i = 0; i < d->nfiles; i++) {
        d->files[i].hunks = d->files[i].nhunks > 0 ? &d->hunk_pool[h] : NULL;
        for (j = 0; j < d->files[i].nhunks; j++, h++) {
            d->hunk_pool[h].lines = &d->line_pool[ln];
            ln += d->hunk_pool[h].nlines;
        }
    }
}

int udiff_parse(const char *text, size_t len, struct udiff **out, struct udiff_err *err)
{
    struct parser ps;
    struct line l;

    *out = NULL;
    if (err != NULL) {
        err->line = 0;
        err->msg[0] = '\0';
    }
    memset(&ps, 0, sizeof(ps));
    ps.err = err;
    if (text == NULL && len > 0)
        return fail(&ps, 0, "no diff");
    if (len > UDIFF_MAX)
        return fail(&ps, 0, "diff longer than %d bytes", UDIFF_MAX);
    if (len > 0 && memchr(text, '\0', len) != NULL)
        return fail(&ps, 0, "diff holds a NUL byte");
    ps.t = text;
    ps.len = len;
    ps.lineno = 1;
    ps.d = calloc(1, sizeof(*ps.d));
    if (ps.d == NULL)
        return fail(&ps, 0, "out of memory");
    while (peek(&ps, &l) == 0)
        if (top_line(&ps, &l) < 0)
            goto fail;
    if (end_file(&ps) < 0)
        goto fail;
    if (ps.d->nfiles == 0) {
        fail(&ps, 1, "no file header or hunk found");
        goto fail;
    }
    link_pools(ps.d);
    *out = ps.d;
    return 0;
fail:
    udiff_free(ps.d);
    return -1;
}

void udiff_free(struct udiff *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nfiles; i++) {
        free(d->files[i].old_path);
        free(d->files[i].new_path);
    }
    free(d->files);
    free(d->hunk_pool);
    free(d->line_pool);
    free(d);
}

const struct udiff_file *udiff_find(const struct udiff *d, const char *path)
{
    const char *name;
    size_t i;

    if (d == NULL || path == NULL)
        return NULL;
    for (i = 0; i < d->nfiles; i++) {
        name = d->files[i].new_path != NULL ? d->files[i].new_path : d->files[i].old_path;
        if (name != NULL && strcmp(name, path) == 0)
            return &d->files[i];
    }
    return NULL;
}
