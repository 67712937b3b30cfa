/* replace_fix.c - the diff of a line replacement; see replace_fix.h.
 *
 * Two passes over the same writer: the first only counts bytes (to refuse
 * a diff over PATCH_MAX before allocating), the second writes them.
 */
#include "worker/replace_fix.h"

#include "common/decimal.h"
#include "common/patch.h"
#include "worker/context.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NO_NEWLINE "\n\\ No newline at end of file\n"

/* A line of the file or of the replacement: p[0..n) without its ending;
 * eol is "\n", "\r\n" or "" (a last line without a newline). */
struct seg {
    const char *p;
    size_t n;
    const char *eol;
};

/* The line of s[0..len) at *pos; advances *pos past it. Returns 0, or -1
 * at the end. */
static int next_line(const char *s, size_t len, size_t *pos, struct seg *l)
{
    const char *nl;

    if (*pos >= len)
        return -1;
    l->p = s + *pos;
    nl = memchr(l->p, '\n', len - *pos);
    if (nl == NULL) {
        l->n = len - *pos;
        l->eol = "";
        *pos = len;
        return 0;
    }
    l->n = (size_t)(nl - l->p);
    l->eol = "\n";
    if (l->n > 0 && l->p[l->n - 1] == '\r') {
        l->n--;
        l->eol = "\r\n";
    }
    *pos += (size_t)(nl - l->p) + 1;
    return 0;
}

/* The length of l's leading excerpt numbering, "<digits>" and
 * CONTEXT_NUMBER_SEP, and the number in *no (-1 past 18 digits); 0 when l
 * does not start so. */
static size_t number_prefix(const struct seg *l, long *no)
{
    size_t i = 0;

    *no = 0;
    for (; i < l->n && l->p[i] >= '0' && l->p[i] <= '9'; i++)
        *no = i < 18 && *no >= 0 ? *no * 10 + (l->p[i] - '0') : -1;
    return i > 0 && i < l->n && l->p[i] == CONTEXT_NUMBER_SEP ? i + 1 : 0;
}

/* The replacement's pieces: like next_line, but every line ends (its own
 * ending is dropped) and, with strip, a leading number_prefix goes. */
static int next_piece(const char *s, size_t len, size_t *pos, int strip, struct seg *l)
{
    long no;
    size_t k;

    if (next_line(s, len, pos, l) < 0)
        return -1;
    if (l->eol[0] == '\0' && l->n > 0 && l->p[l->n - 1] == '\r')
        l->n--;                         /* a last line ending in a lone "\r" */
    if (strip && (k = number_prefix(l, &no)) > 0) {
        l->p += k;
        l->n -= k;
    }
    return 0;
}

struct writer {
    char *dst;                  /* NULL: count only */
    size_t n;
};

static void put(struct writer *w, const char *s, size_t n)
{
    if (w->dst != NULL)
        memcpy(w->dst + w->n, s, n);
    w->n += n;
}

static void put_str(struct writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_num(struct writer *w, long v)
{
    char num[DECIMAL_STR_MAX];

    put(w, num, decimal_str(num, v));
}

/* One body line: mark, text, ending; a line without one gets the marker. */
static void put_body(struct writer *w, char mark, const struct seg *l, const char *eol)
{
    put(w, &mark, 1);
    put(w, l->p, l->n);
    put_str(w, eol[0] != '\0' ? eol : NO_NEWLINE);
}

/* One replacement: the arguments and what replace_fix_diff worked out. */
struct job {
    const char *text, *path, *repl;
    size_t len, repl_len;
    long first, last;
    long before, after;         /* context lines on each side */
    long pieces;                /* lines of the replacement */
    size_t from, at;            /* offsets of lines first - before and first */
    long echo_before, echo_after;   /* lines compared before and after the range */
    size_t prev, next;          /* offsets of lines first - echo_before and last + 1 */
    int strip;                  /* the replacement copied the excerpt's numbering */
};

static void write_diff(const struct job *j, struct writer *w)
{
    long before = j->before, after = j->after, pieces = j->pieces;
    size_t pos = j->from, rpos = 0;
    struct seg l, r;
    const char *new_eol = NULL;
    long no, i;

    if (j->path != NULL) {
        put_str(w, "--- a/");
        put_str(w, j->path);
        put_str(w, "\n+++ b/");
        put_str(w, j->path);
        put_str(w, "\n");
    }
    put_str(w, "@@ -");
    put_num(w, j->first - before);
    put_str(w, ",");
    put_num(w, before + (j->last - j->first + 1) + after);
    put_str(w, " +");
    put_num(w, j->first - before);
    put_str(w, ",");
    put_num(w, before + pieces + after);
    put_str(w, " @@\n");
    for (no = j->first - before; no <= j->last + after; no++) {
        next_line(j->text, j->len, &pos, &l);
        if (no < j->first || no > j->last) {
            put_body(w, ' ', &l, l.eol);
            continue;
        }
        if (new_eol == NULL)
            new_eol = l.eol[0] != '\0' ? l.eol : "\n";
        put_body(w, '-', &l, l.eol);
        if (no != j->last)
            continue;
        /* The new lines follow the last removed one; the very last keeps
         * the file's missing newline when nothing follows it. */
        for (i = 0; i < pieces; i++) {
            next_piece(j->repl, j->repl_len, &rpos, j->strip, &r);
            put_body(w, '+', &r, i == pieces - 1 && after == 0 && l.eol[0] == '\0' ? ""
                                                                                     : new_eol);
        }
    }
}

/* Whether the replacement's pieces equal lines first..last. */
static int unchanged(const struct job *j)
{
    size_t pos = j->at, rpos = 0;
    struct seg l, r;

    if (j->pieces != j->last - j->first + 1)
        return 0;
    for (long no = j->first; no <= j->last; no++) {
        next_line(j->text, j->len, &pos, &l);
        next_piece(j->repl, j->repl_len, &rpos, j->strip, &r);
        if (l.n != r.n || memcmp(l.p, r.p, l.n) != 0)
            return 0;
    }
    return 1;
}

/* The excerpt's numbering, if the model copied it: the number n on repl's
 * first line that the excerpt numbers (context_line_numbered), and *k,
 * that line's index in repl. n is -1 when that line has no number_prefix,
 * or there is none. */
static long copied_number(const char *repl, size_t len, long *k)
{
    size_t pos = 0;
    struct seg l;
    long n;

    for (*k = 0; next_piece(repl, len, &pos, 0, &l) == 0; (*k)++)
        if (context_line_numbered(l.p, l.n))
            return number_prefix(&l, &n) > 0 ? n : -1;     /* n is -1 past 18 digits */
    return -1;
}

/* l without the spaces and tabs around it. */
static struct seg trimmed(struct seg l)
{
    while (l.n > 0 && (l.p[0] == ' ' || l.p[0] == '\t')) {
        l.p++;
        l.n--;
    }
    while (l.n > 0 && (l.p[l.n - 1] == ' ' || l.p[l.n - 1] == '\t'))
        l.n--;
    return l;
}

/* Whether a and b are the same line, indentation aside. */
static int same_line(struct seg a, struct seg b)
{
    a = trimmed(a);
    b = trimmed(b);
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* Whether a line says something: it has a letter or digit and does more
 * than close a block ("}", "end", "fi" may well stand twice in a row). */
static int telling(struct seg l)
{
    if (context_line_closes(l.p, l.n))
        return 0;
    for (size_t i = 0; i < l.n; i++)
        if (isalnum((unsigned char)l.p[i]))
            return 1;
    return 0;
}

/* Whether lines a[0..m) are b[0..m) and one of them says something. */
static int echoes(const struct seg *a, const struct seg *b, long m)
{
    int says = 0;

    for (long i = 0; i < m; i++) {
        if (!same_line(a[i], b[i]))
            return 0;
        says |= telling(b[i]);
    }
    return says;
}

/* Whether the replacement starts with a copy of the m lines just before
 * the range, or ends with a copy of the m lines just after it, for an m up
 * to REPLACE_FIX_ECHO_MAX. Applied, the file would hold those lines twice:
 * the model copied neighbours it was not replacing, placed the range off,
 * or left out end_line. */
static int repeats_neighbour(const struct job *j)
{
    struct seg head[REPLACE_FIX_ECHO_MAX], tail[REPLACE_FIX_ECHO_MAX], l;
    struct seg before[REPLACE_FIX_ECHO_MAX], after[REPLACE_FIX_ECHO_MAX];
    long ends = j->pieces < REPLACE_FIX_ECHO_MAX ? j->pieces : REPLACE_FIX_ECHO_MAX;
    size_t pos, rpos = 0;
    long i, m;

    /* The first and the last `ends` pieces. */
    for (i = 0; i < j->pieces; i++) {
        next_piece(j->repl, j->repl_len, &rpos, j->strip, &l);
        if (i < ends)
            head[i] = l;
        if (i >= j->pieces - ends)
            tail[i - (j->pieces - ends)] = l;
    }
    for (i = 0, pos = j->prev; i < j->echo_before; i++)
        next_line(j->text, j->len, &pos, &before[i]);
    for (i = 0, pos = j->next; i < j->echo_after; i++)
        next_line(j->text, j->len, &pos, &after[i]);

    for (m = 1; m <= ends; m++)
        if ((m <= j->echo_before && echoes(head, before + j->echo_before - m, m)) ||
            (m <= j->echo_after && echoes(tail + ends - m, after, m)))
            return 1;
    return 0;
}

char *replace_fix_diff(const char *text, size_t len, const char *path, long first, long last,
                       const char *repl, size_t repl_len, const char **why)
{
    struct job j = {.text = text, .path = path, .repl = repl, .len = len,
                    .repl_len = repl_len, .first = first, .last = last};
    struct writer w = {NULL, 0};
    struct seg l;
    size_t pos = 0;
    long total = 0;
    long numbered, k;
    const char *unused;

    if (why == NULL)
        why = &unused;
    *why = REPLACE_FIX_INVALID;
    if (text == NULL || repl == NULL || repl_len == 0 || memchr(repl, '\0', repl_len) != NULL ||
        first < 1 || last < first)
        return NULL;
    if (path != NULL)
        for (const char *c = path; *c != '\0'; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return NULL;
    j.before = first - 1 < REPLACE_FIX_CONTEXT ? first - 1 : REPLACE_FIX_CONTEXT;
    j.echo_before = first - 1 < REPLACE_FIX_ECHO_MAX ? first - 1 : REPLACE_FIX_ECHO_MAX;
    while (next_line(text, len, &pos, &l) == 0) {
        total++;
        if (total == first - j.before)
            j.from = (size_t)(l.p - text);
        if (total == first - j.echo_before)
            j.prev = (size_t)(l.p - text);
        if (total == first)
            j.at = (size_t)(l.p - text);
        if (total == last + 1)
            j.next = (size_t)(l.p - text);
    }
    if (last > total)
        return NULL;
    j.after = total - last < REPLACE_FIX_CONTEXT ? total - last : REPLACE_FIX_CONTEXT;
    j.echo_after = total - last < REPLACE_FIX_ECHO_MAX ? total - last : REPLACE_FIX_ECHO_MAX;

    /* The excerpt's numbering copied: the model says which line its text
     * starts at, and it must be the range's. */
    numbered = copied_number(repl, repl_len, &k);
    if (numbered >= 1 && numbered >= first + k - REPLACE_FIX_CONTEXT && numbered <= last) {
        if (numbered != first + k) {
            *why = REPLACE_FIX_MISPLACED;
            return NULL;
        }
        j.strip = 1;
    }
    for (pos = 0; next_line(repl, repl_len, &pos, &l) == 0;)
        j.pieces++;
    if (unchanged(&j)) {
        *why = REPLACE_FIX_UNCHANGED;
        return NULL;
    }
    if (repeats_neighbour(&j)) {
        *why = REPLACE_FIX_NEIGHBOUR;
        return NULL;
    }

    write_diff(&j, &w);
    if (w.n > PATCH_MAX)
        return NULL;
    w.dst = malloc(w.n + 1);
    if (w.dst == NULL)
        return NULL;
    w.n = 0;
    write_diff(&j, &w);
    w.dst[w.n] = '\0';
    return w.dst;
}
