/* patch.c - strict unified-diff application; see patch.h.
 *
 * One pass over the diff, one over the text: old lines before a hunk are
 * copied, each hunk line is checked against (context, removal) or written
 * to (context, addition) the output. A line of either file is its bytes
 * through its '\n', so "\r\n" endings and a last line without a newline
 * compare byte-exactly.
 *
 * Accepted:
 *   - an optional header before the first hunk: at most one "diff ..." line,
 *     one "index ..." line, then "--- ..." immediately followed by
 *     "+++ ..." (names ignored); nothing else (no mode, rename or binary
 *     lines);
 *   - hunks "@@ -a[,b] +c[,d] @@[ heading]" with counts defaulting to 1 and
 *     numbers below 10^9; a = 0 only when b = 0 (likewise c, d); in order,
 *     not overlapping; the new start must agree with the old start and the
 *     line balance of the hunks before (c-1 = a-1 + sum(d-b));
 *   - body lines ' ', '-', '+', and an empty line read as an empty context
 *     line; exactly b old and d new lines, then the next "@@" or the end;
 *   - "\..." (No newline at end of file) right after a body line: that line
 *     has no trailing newline on its side(s);
 *   - a diff whose last line lacks its '\n' (the line is read as if it had
 *     one).
 * Rejected (-1): anything else, including an empty diff, a diff holding a
 * NUL byte, and one longer than PATCH_MAX; and a diff that common/udiff.c,
 * which the exports read fixes with (fix_blocks), does not take as one
 * file's: a "diff --git" line without its "---"/"+++" pair, say. A fix
 * applied here is one the exports can show.
 */
#include "common/patch.h"

#include "common/udiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Largest line number or count in a hunk header (9 digits). */
#define HUNK_NUM_MAX 999999999L

struct line {
    const char *p;           /* first byte */
    size_t n;                /* bytes, excluding the '\n' */
    int has_nl;              /* 0 only for the diff's unterminated last line */
};

struct apply {
    const char *text;        /* borrowed: the old file */
    size_t len;
    size_t tpos;             /* offset of the next old line not yet used */
    long tline;              /* its 0-based index */
    const char *diff;        /* borrowed */
    size_t dlen;
    size_t dpos;             /* offset of the next diff line */
    char *dst;               /* owns: output, or NULL when only checking */
    size_t o;                /* bytes written (or counted) */
    int closed;              /* the last line written had no newline */
    long delta;              /* new lines minus old lines, hunks so far */
    long first, last;        /* old lines changed, 1-based (patch_span); 0: none */
    int replacing;           /* the lines of this hunk just before were removals */
};

/* Counts old lines lo..hi (1-based) as changed. */
static void touch(struct apply *a, long lo, long hi)
{
    if (lo < 1)
        lo = 1;
    if (a->first == 0 || lo < a->first)
        a->first = lo;
    if (hi > a->last)
        a->last = hi;
}

/* Reads the diff line at dpos without consuming it. Returns 0, or -1 at
 * the end of the diff. */
static int diff_peek(const struct apply *a, struct line *l)
{
    const char *nl;

    if (a->dpos >= a->dlen)
        return -1;
    l->p = a->diff + a->dpos;
    nl = memchr(l->p, '\n', a->dlen - a->dpos);
    l->has_nl = nl != NULL;
    l->n = nl != NULL ? (size_t)(nl - l->p) : a->dlen - a->dpos;
    return 0;
}

static void diff_skip(struct apply *a, const struct line *l)
{
    a->dpos += l->n + (l->has_nl ? 1 : 0);
}

static int starts(const struct line *l, const char *lit)
{
    size_t n = strlen(lit);

    return l->n >= n && memcmp(l->p, lit, n) == 0;
}

/* Next old line: *p and *n (including its '\n' when it has one). Returns
 * 0, or -1 past the end of the text. */
static int old_line(const struct apply *a, const char **p, size_t *n)
{
    const char *nl;

    if (a->tpos >= a->len)
        return -1;
    *p = a->text + a->tpos;
    nl = memchr(*p, '\n', a->len - a->tpos);
    *n = nl != NULL ? (size_t)(nl - *p) + 1 : a->len - a->tpos;
    return 0;
}

/* Writes one output line (bytes, then '\n' when nl). Returns -1 when a
 * line without a newline was already written: nothing may follow it. */
static int emit(struct apply *a, const char *p, size_t n, int nl)
{
    if (a->closed)
        return -1;
    if (a->dst != NULL) {
        memcpy(a->dst + a->o, p, n);
        if (nl)
            a->dst[a->o + n] = '\n';
    }
    a->o += n + (nl ? 1 : 0);
    a->closed = n == 0 ? !nl : (!nl && p[n - 1] != '\n');
    return 0;
}

/* Copies old lines up to (excluding) 0-based index target. */
static int copy_until(struct apply *a, long target)
{
    const char *p;
    size_t n;

    while (a->tline < target) {
        if (old_line(a, &p, &n) < 0 || emit(a, p, n, 0) < 0)
            return -1;
        a->tpos += n;
        a->tline++;
    }
    return 0;
}

/* Copies the old lines after the last hunk. */
static int copy_rest(struct apply *a)
{
    const char *p;
    size_t n;

    while (old_line(a, &p, &n) == 0) {
        if (emit(a, p, n, 0) < 0)
            return -1;
        a->tpos += n;
        a->tline++;
    }
    return 0;
}

/* Parses 1 to 9 digits at *s (before end) into *v. */
static int parse_num(const char **s, const char *end, long *v)
{
    const char *p = *s;
    long x = 0;

    if (p >= end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9') {
        if (p - *s >= 9)
            return -1;
        x = x * 10 + (*p - '0');
        p++;
    }
    *v = x;
    *s = p;
    return 0;
}

/* Parses "-a[,b] +c[,d] @@..." after "@@ ". */
static int parse_hunk_header(const struct line *l, long *a0, long *b0, long *c0, long *d0)
{
    const char *p = l->p + 3, *end = l->p + l->n;

    *b0 = 1;
    *d0 = 1;
    if (p >= end || *p++ != '-' || parse_num(&p, end, a0) < 0)
        return -1;
    if (p < end && *p == ',' && (++p, parse_num(&p, end, b0) < 0))
        return -1;
    if (end - p < 2 || p[0] != ' ' || p[1] != '+')
        return -1;
    p += 2;
    if (parse_num(&p, end, c0) < 0)
        return -1;
    if (p < end && *p == ',' && (++p, parse_num(&p, end, d0) < 0))
        return -1;
    if (end - p < 3 || memcmp(p, " @@", 3) != 0)
        return -1;
    p += 3;
    /* End of line, a section heading after a blank, or the '\r' of a diff
     * carried with CRLF line ends. */
    if (p == end || *p == ' ' || (*p == '\r' && p + 1 == end))
        return 0;
    return -1;
}

/* Applies the hunk whose header is l. */
static int apply_hunk(struct apply *a, const struct line *l)
{
    long a0, b0, c0, d0, old_at, new_at, old_left, new_left;
    struct line body, mark;
    const char *op, *content;
    size_t on, cn;
    int nonl;
    char kind;

    if (parse_hunk_header(l, &a0, &b0, &c0, &d0) < 0)
        return -1;
    if ((a0 == 0 && b0 != 0) || (c0 == 0 && d0 != 0) || (b0 == 0 && d0 == 0))
        return -1;
    old_at = b0 != 0 ? a0 - 1 : a0;
    new_at = d0 != 0 ? c0 - 1 : c0;
    if (old_at < a->tline || new_at != old_at + a->delta)
        return -1;     /* out of order, overlapping, or inconsistent */
    if (copy_until(a, old_at) < 0)
        return -1;     /* starts past the end of the text */
    /* Removals of an earlier hunk are not replaced by this one's additions:
     * kept over, the flag hid a bare insertion hunk far from them. */
    a->replacing = 0;
    for (old_left = b0, new_left = d0; old_left > 0 || new_left > 0; ) {
        if (diff_peek(a, &body) < 0)
            return -1; /* the diff ends inside the hunk */
        diff_skip(a, &body);
        nonl = 0;
        if (diff_peek(a, &mark) == 0 && starts(&mark, "\\")) {
            nonl = 1;
            diff_skip(a, &mark);
        }
        /* An empty line is an empty context line whose blank was stripped. */
        kind = body.n == 0 ? ' ' : body.p[0];
        content = body.n == 0 ? body.p : body.p + 1;
        cn = body.n == 0 ? 0 : body.n - 1;
        switch (kind) {
        case ' ':
        case '-':
            if (old_left == 0 || (kind == ' ' && new_left == 0))
                return -1; /* more lines than the counts say */
            if (old_line(a, &op, &on) < 0 || on != cn + (nonl ? 0 : 1) ||
                memcmp(op, content, cn) != 0 || (!nonl && op[cn] != '\n'))
                return -1; /* does not match the text here */
            if (kind == ' ') {
                if (emit(a, op, on, 0) < 0)
                    return -1;
                new_left--;
            } else {
                touch(a, a->tline + 1, a->tline + 1);
            }
            a->replacing = kind == '-';
            old_left--;
            a->tpos += on;
            a->tline++;
            break;
        case '+':
            if (new_left == 0 || emit(a, content, cn, !nonl) < 0)
                return -1;
            /* Lines added in place of removed ones change those (the last
             * is tline, 1-based); others go between old lines tline and
             * tline + 1. Either way the position is counted, so no state
             * can leave an addition out of the span. */
            touch(a, a->tline, a->replacing ? a->tline : a->tline + 1);
            new_left--;
            break;
        default:
            return -1;     /* not a hunk line: the counts are wrong */
        }
    }
    a->delta += d0 - b0;
    return 0;
}

/* Skips the optional header. Returns 0 at the first "@@ ", else -1. */
static int skip_header(struct apply *a)
{
    struct line l;
    int seen_diff = 0, seen_index = 0;

    for (;;) {
        if (diff_peek(a, &l) < 0)
            return -1;           /* no hunk at all */
        if (starts(&l, "@@ "))
            return 0;
        if (starts(&l, "diff ") && !seen_diff && !seen_index) {
            seen_diff = 1;
        } else if (starts(&l, "index ") && !seen_index) {
            seen_index = 1;
        } else if (starts(&l, "--- ")) {
            diff_skip(a, &l);
            if (diff_peek(a, &l) < 0 || !starts(&l, "+++ "))
                return -1;
            diff_skip(a, &l);
            return diff_peek(a, &l) == 0 && starts(&l, "@@ ") ? 0 : -1;
        } else {
            return -1;           /* binary, mode, rename, garbage... */
        }
        diff_skip(a, &l);
    }
}

/* patch_apply, leaving a's span filled in. */
static int run(struct apply *a, const char *text, size_t len, const char *diff,
               size_t diff_len, char **out, size_t *out_len);

/* 1 when udiff reads diff[0..len) as the diff of one file, with hunks. */
static int one_file_diff(const char *diff, size_t len)
{
    struct udiff *d;
    int ok;

    if (udiff_parse(diff, len, &d, NULL) != 0)
        return 0;
    ok = d->nfiles == 1 && d->files[0].nhunks > 0;
    udiff_free(d);
    return ok;
}

int patch_apply(const char *text, size_t len, const char *diff, size_t diff_len, char **out,
                size_t *out_len)
{
    struct apply a;

    return run(&a, text, len, diff, diff_len, out, out_len);
}

int patch_span(const char *text, size_t len, const char *diff, size_t diff_len, long *first,
               long *last)
{
    struct apply a;

    *first = *last = 0;
    if (run(&a, text, len, diff, diff_len, NULL, NULL) != 0)
        return -1;
    *first = a.first;
    *last = a.last;
    return 0;
}

static int run(struct apply *ap, const char *text, size_t len, const char *diff,
               size_t diff_len, char **out, size_t *out_len)
{
    struct apply a;
    struct line l;

    if (out != NULL)
        *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (diff == NULL || diff_len == 0 || diff_len > PATCH_MAX || (text == NULL && len > 0) ||
        len > SIZE_MAX - PATCH_MAX - 1 || memchr(diff, '\0', diff_len) != NULL ||
        !one_file_diff(diff, diff_len))
        return -1;
    memset(&a, 0, sizeof(a));
    a.text = text != NULL ? text : "";
    a.len = len;
    a.diff = diff;
    a.dlen = diff_len;
    if (out != NULL) {
        /* Output is old bytes plus added lines, each no longer than its
         * diff line: len + diff_len bounds it. */
        a.dst = malloc(len + diff_len + 1);
        if (a.dst == NULL)
            return -1;
    }
    if (skip_header(&a) < 0)
        goto fail;
    while (diff_peek(&a, &l) == 0) {
        if (!starts(&l, "@@ "))
            goto fail;           /* trailing lines, a second file, a count off */
        diff_skip(&a, &l);
        if (apply_hunk(&a, &l) < 0)
            goto fail;
    }
    if (copy_rest(&a) < 0)
        goto fail;
    if (out != NULL) {
        a.dst[a.o] = '\0';
        *out = a.dst;
    }
    if (out_len != NULL)
        *out_len = a.o;
    *ap = a;
    return 0;
fail:
    free(a.dst);
    return -1;
}

int patch_names_path(const char *diff, const char *path)
{
    const char *h = strstr(diff, "+++ ");
    size_t n, plen = strlen(path);

    if (h == NULL || (h != diff && h[-1] != '\n'))
        return -1;
    h += 4;
    n = strcspn(h, "\t\r\n");
    if (n == plen && memcmp(h, path, n) == 0)
        return 2;
    if (n == plen + 2 && memcmp(h, "b/", 2) == 0 && memcmp(h + 2, path, plen) == 0)
        return 1;
    return 0;
}
