/* diff_filter.c - a one-file diff's scope and reviewdog's filters; see
 * diff_filter.h. */
#include "common/diff_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {
    [DIFF_FILTER_ADDED] = "added",
    [DIFF_FILTER_DIFF_CONTEXT] = "diff_context",
    [DIFF_FILTER_FILE] = "file",
    [DIFF_FILTER_NOFILTER] = "nofilter",
};

#define NFILTERS (sizeof(names) / sizeof(names[0]))

int diff_filter_parse(const char *s)
{
    size_t i;

    for (i = 0; s != NULL && i < NFILTERS; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *diff_filter_str(enum diff_filter f)
{
    return (size_t)f < NFILTERS ? names[f] : names[DIFF_FILTER_ADDED];
}

/* 1-based line of the input diff holding p. */
static long diff_line_of(const char *diff, const char *p)
{
    long n = 1;

    for (; diff < p; diff++)
        n += *diff == '\n';
    return n;
}

/* Splits text into line starts: *starts (owns) holds total + 1 offsets, the
 * last one len (or len + 1 past a final '\n'), so line k (1-based) is
 * text[starts[k-1] .. starts[k] - 1) without its '\n'. */
static int split_lines(const char *text, size_t len, size_t **starts, long *total)
{
    size_t n = 0, i, k = 0, *v;

    for (i = 0; i < len; i++)
        n += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n')
        n++;
    v = malloc((n + 1) * sizeof(*v));
    if (v == NULL)
        return -1;
    v[k++] = 0;
    for (i = 0; i < len; i++)
        if (text[i] == '\n')
            v[k++] = i + 1;
    if (len > 0 && text[len - 1] != '\n')
        v[k++] = len + 1;   /* as if it had a '\n' */
    *starts = v;
    *total = (long)n;
    return 0;
}

/* 1 when f creates its file: flagged so, or its only hunk adds to nothing
 * ("@@ -0,0 +1,N @@" without the headers that say so). */
static int creates_file(const struct udiff_file *f)
{
    return (f->flags & UDIFF_NEW) ||
           (f->nhunks == 1 && f->hunks[0].old_start == 0 && f->hunks[0].old_count == 0);
}

/* A created file's diff holds it whole: one hunk, lines 1..total. */
static int whole_when_created(const char *diff, const struct udiff_file *f, long total,
                              char *msg, size_t cap)
{
    const struct udiff_hunk *h = &f->hunks[0];

    if (!creates_file(f) || f->nhunks == 0 ||
        (f->nhunks == 1 && h->new_count == total && (h->new_start == 1 || total == 0)))
        return 0;
    if (f->nhunks > 1)
        snprintf(msg, cap, "the diff creates the file in %zu hunks, but a new file_content "
                 "is one hunk of all its lines", f->nhunks);
    else
        snprintf(msg, cap, "the diff creates the file (hunk at diff line %ld) with %ld lines, "
                 "but file_content has %ld", diff_line_of(diff, diff + h->offset),
                 h->new_count, total);
    return -1;
}

int diff_filter_check_text(const char *diff, const struct udiff_file *f, const char *text,
                           size_t len, char *msg, size_t cap)
{
    const struct udiff_hunk *h;
    const struct udiff_line *l;
    size_t *starts = NULL, i, j, at, n;
    long total = 0, last;
    int final_nl = len > 0 && text[len - 1] == '\n', rc = -1;

    if (split_lines(text, len, &starts, &total) < 0) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    for (i = 0; i < f->nhunks; i++) {
        h = &f->hunks[i];
        last = h->new_count > 0 ? h->new_start + h->new_count - 1 : h->new_start;
        if (last > total) {
            snprintf(msg, cap, "the hunk at diff line %ld reaches new line %ld, but "
                     "file_content has %ld lines", diff_line_of(diff, diff + h->offset), last,
                     total);
            goto out;
        }
        for (j = 0; j < h->nlines; j++) {
            l = &h->lines[j];
            if (l->kind == '-')
                continue;
            at = starts[l->new_no - 1];
            n = starts[l->new_no] - 1 - at;
            if (n != l->len || memcmp(text + at, l->text, n) != 0) {
                snprintf(msg, cap, "diff line %ld differs from file_content line %ld",
                         diff_line_of(diff, l->text), l->new_no);
                goto out;
            }
            if (l->no_newline != (l->new_no == total && !final_nl)) {
                snprintf(msg, cap, "diff line %ld: file_content line %ld %s", diff_line_of(diff,
                         l->text), l->new_no, l->no_newline ? "is not the file's last line "
                         "without a newline" : "lacks the final newline the diff shows");
                goto out;
            }
        }
    }
    rc = whole_when_created(diff, f, total, msg, cap);
out:
    free(starts);
    return rc;
}

/* Appends first..last to v (n used, cap allocated), merging with the last
 * range when they touch or overlap (input comes in order). */
static int range_add(struct diff_range **v, size_t *n, size_t *cap, long first, long last)
{
    struct diff_range *p;
    size_t ncap;

    if (*n > 0 && first <= (*v)[*n - 1].last + 1) {
        if (last > (*v)[*n - 1].last)
            (*v)[*n - 1].last = last;
        return 0;
    }
    if (*n == *cap) {
        ncap = *cap ? *cap * 2 : 8;
        p = realloc(*v, ncap * sizeof(*p));
        if (p == NULL)
            return -1;
        *v = p;
        *cap = ncap;
    }
    (*v)[*n].first = first;
    (*v)[*n].last = last;
    (*n)++;
    return 0;
}

int diff_scope_build(const struct udiff_file *f, struct diff_scope *s)
{
    size_t i, j, acap = 0, hcap = 0;
    const struct udiff_hunk *h;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < f->nhunks; i++) {
        h = &f->hunks[i];
        if (h->new_count > 0 && range_add(&s->hunks, &s->nhunks, &hcap, h->new_start,
                                          h->new_start + h->new_count - 1) < 0)
            goto fail;
        for (j = 0; j < h->nlines; j++)
            if (h->lines[j].kind == '+' && range_add(&s->added, &s->nadded, &acap,
                                                     h->lines[j].new_no,
                                                     h->lines[j].new_no) < 0)
                goto fail;
    }
    return 0;
fail:
    diff_scope_cleanup(s);
    return -1;
}

void diff_scope_cleanup(struct diff_scope *s)
{
    if (s == NULL)
        return;
    free(s->added);
    free(s->hunks);
    memset(s, 0, sizeof(*s));
}

static int touches(const struct diff_range *v, size_t n, long first, long last)
{
    size_t i;

    for (i = 0; i < n && v[i].first <= last; i++)
        if (v[i].last >= first)
            return 1;
    return 0;
}

int diff_scope_keeps(const struct diff_scope *s, enum diff_filter flt, long line, long end_line)
{
    if (end_line < line)
        end_line = line;
    switch (flt) {
    case DIFF_FILTER_ADDED:
        return touches(s->added, s->nadded, line, end_line);
    case DIFF_FILTER_DIFF_CONTEXT:
        return touches(s->hunks, s->nhunks, line, end_line);
    case DIFF_FILTER_FILE:
    case DIFF_FILTER_NOFILTER:
        break;
    }
    return 1;
}

cJSON *diff_scope_ranges_json(const struct diff_scope *s, int added)
{
    const struct diff_range *v = added ? s->added : s->hunks;
    size_t i, n = added ? s->nadded : s->nhunks;
    cJSON *arr = cJSON_CreateArray(), *pair;

    for (i = 0; arr != NULL && i < n; i++) {
        pair = cJSON_CreateArray();
        if (pair == NULL || !cJSON_AddItemToArray(arr, pair)) {
            cJSON_Delete(pair);
            goto fail;
        }
        /* A NULL number is refused by AddItemToArray: nothing leaks. */
        if (!cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)v[i].first)) ||
            !cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)v[i].last)))
            goto fail;
    }
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}
