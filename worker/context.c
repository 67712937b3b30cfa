/* context.c - chooses the lines of a file the model sees and numbers them.
 *
 * Selection: the hunks of a diff (new side) or the cursor window, each
 * widened by a few lines and merged; otherwise the whole file. Then the
 * selection is emitted in line order until budget_bytes is reached; every
 * line is either in reviewed_ranges or in skipped_ranges.
 */
#include "worker/context.h"

#include "common/decimal.h"
#include "common/udiff.h"
#include "common/utf8.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Line numbers beyond this are treated as out of range (cursor positions;
 * a diff's are capped lower, by UDIFF_NUM_MAX), so arithmetic on them never
 * overflows. */
#define LINE_NO_MAX 1000000000L

/* Between two windows of the excerpt. */
#define CONTEXT_GAP "...\n"

/* Appended to a line cut at CONTEXT_LINE_MAX bytes. */
#define CONTEXT_LINE_CUT " [...]"

/* A line of the file: text[start .. start+len), without "\n" or "\r\n". */
struct line {
    size_t start;
    size_t len;
};

/* Inclusive, 1-based. */
struct range {
    long first;
    long last;
};

struct ranges {
    struct range *v;
    size_t n;
    size_t cap;
};

static int ranges_add(struct ranges *r, long first, long last)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct range *v = realloc(r->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n].first = first;
    r->v[r->n].last = last;
    r->n++;
    return 0;
}

/* Appends [first, last], extending the previous range when they touch
 * (ranges must be added in increasing order of first). */
static int ranges_append(struct ranges *r, long first, long last)
{
    if (r->n > 0 && first <= r->v[r->n - 1].last + 1) {
        if (last > r->v[r->n - 1].last)
            r->v[r->n - 1].last = last;
        return 0;
    }
    return ranges_add(r, first, last);
}

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a, *y = b;

    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return (x->last > y->last) - (x->last < y->last);
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static void ranges_normalise(struct ranges *r)
{
    size_t o = 0;

    if (r->n == 0)
        return;
    qsort(r->v, r->n, sizeof *r->v, range_cmp);
    for (size_t i = 1; i < r->n; i++) {
        if (r->v[i].first <= r->v[o].last + 1) {
            if (r->v[i].last > r->v[o].last)
                r->v[o].last = r->v[i].last;
        } else {
            r->v[++o] = r->v[i];
        }
    }
    r->n = o + 1;
}

/* Adds [first-around, last+around] clipped to 1..total (nothing when the
 * clipped range is empty). */
static int ranges_add_window(struct ranges *r, long first, long last, long total)
{
    first = first > LINE_NO_MAX ? LINE_NO_MAX : first;
    last = last > LINE_NO_MAX ? LINE_NO_MAX : last;
    if (first < 1)
        first = 1;
    if (last > total)
        last = total;
    if (first > last)
        return 0;
    return ranges_add(r, first, last);
}

/* ---- lines ---- */

/* Splits text into lines: "\n" ends a line, a "\r" before it is not part
 * of the line, and a last line without "\n" still counts. Returns 0 with
 * *out (owns; NULL when there are no lines) and *n, or -1. */
static int lines_split(const char *text, size_t len, struct line **out, long *n)
{
    size_t count = 0, i, k = 0, start = 0;
    struct line *v;

    *out = NULL;
    *n = 0;
    if (text == NULL || len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (text[i] == '\n')
            count++;
    if (text[len - 1] != '\n')
        count++;
    if (count > (size_t)LONG_MAX / 2)
        return -1;
    v = malloc(count * sizeof *v);
    if (v == NULL)
        return -1;
    for (i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        if (i == len && start == len)
            break;          /* the text ended with "\n" */
        v[k].start = start;
        v[k].len = i - start;
        if (v[k].len > 0 && text[i - 1] == '\r')
            v[k].len--;
        k++;
        start = i + 1;
    }
    *out = v;
    *n = (long)k;
    return 0;
}

/* ---- diff hunks ---- */

/* Adds the new-side range of every hunk of diff (parsed by common/udiff),
 * widened by CONTEXT_AROUND. Returns 1 when the diff is well formed and
 * names lines of this file, 0 when it is not (out untouched beyond what was
 * added: the caller discards it), -1 when out of memory. A diff of more than
 * one file, or without a hunk, is not one this file can use. */
static int diff_windows(const char *diff, long total, struct ranges *out)
{
    struct udiff *d;
    int rc = 1;

    if (udiff_parse(diff, strlen(diff), &d, NULL) < 0)
        return 0;
    if (d->nfiles != 1 || d->files[0].nhunks == 0)
        rc = 0;
    for (size_t i = 0; rc == 1 && i < d->files[0].nhunks; i++) {
        const struct udiff_hunk *h = &d->files[0].hunks[i];
        /* A hunk adding nothing names the line before the removal (udiff
         * refused empty hunks and ones starting at line 0). */
        long last = h->new_start + (h->new_count > 0 ? h->new_count - 1 : 0);

        if (last > total)
            rc = 0;
        else if (ranges_add_window(out, h->new_start - CONTEXT_AROUND,
                                   (h->new_count > 0 ? last : h->new_start + 1) +
                                       CONTEXT_AROUND, total) < 0)
            rc = -1;
    }
    udiff_free(d);
    return rc;
}

/* ---- emitting the excerpt ---- */

struct buf {
    char *p;
    size_t len;
    size_t cap;
};

static int buf_reserve(struct buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (more > SIZE_MAX / 2 - b->len)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(struct buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int context_line_closes(const char *s, size_t len)
{
    size_t i = 0;
    int bracket = 0;

    if (len > CONTEXT_CLOSER_MAX)
        return 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    s += i;
    len -= i;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if ((len == 3 && memcmp(s, "end", 3) == 0) || (len == 2 && memcmp(s, "fi", 2) == 0) ||
        (len == 4 && (memcmp(s, "done", 4) == 0 || memcmp(s, "esac", 4) == 0)))
        return 1;
    for (i = 0; i < len; i++) {
        if (s[i] == '}' || s[i] == ')' || s[i] == ']')
            bracket = 1;
        else if (s[i] != ';' && s[i] != ',')
            return 0;
    }
    return bracket;
}

int context_line_numbered(const char *s, size_t len)
{
    return len > 0 && !context_line_closes(s, len);
}

size_t context_number(char out[CONTEXT_NUMBER_MAX], long no)
{
    size_t n = decimal_str(out, no);

    out[n++] = CONTEXT_NUMBER_SEP;
    return n;
}

/* Whether line l goes without its number; each saves a number and its
 * separator. */
static int unnumbered(const char *text, const struct line *l)
{
    return !context_line_numbered(text + l->start, l->len);
}

/* Bytes line no takes in the excerpt. */
static size_t line_cost(const char *text, const struct line *l, long no)
{
    size_t n = unnumbered(text, l) ? 1 : decimal_len((uint64_t)no) + 1 + 1; /* number, tab, "\n" */

    if (l->len > CONTEXT_LINE_MAX)
        n += CONTEXT_LINE_MAX + sizeof(CONTEXT_LINE_CUT) - 1;
    else
        n += l->len;
    return n;
}

static int emit_line(struct buf *b, const char *text, const struct line *l, long no)
{
    char num[CONTEXT_NUMBER_MAX];

    if (!unnumbered(text, l) && buf_put(b, num, context_number(num, no)) < 0)
        return -1;
    if (l->len > 0) {
        size_t keep = utf8_cut(text + l->start, l->len, CONTEXT_LINE_MAX);
        if (buf_put(b, text + l->start, keep) < 0)
            return -1;
        if (keep < l->len && buf_put(b, CONTEXT_LINE_CUT, sizeof(CONTEXT_LINE_CUT) - 1) < 0)
            return -1;
    }
    return buf_put(b, "\n", 1);
}

/* Emits the wanted lines in order while they fit in budget; the emitted
 * lines go to *reviewed. */
static int emit_excerpt(const char *text, const struct line *lines,
                        const struct ranges *want, size_t budget, struct buf *b,
                        struct ranges *reviewed)
{
    long prev = 0;

    for (size_t i = 0; i < want->n; i++) {
        for (long no = want->v[i].first; no <= want->v[i].last; no++) {
            const struct line *l = &lines[no - 1];
            size_t cost = line_cost(text, l, no);
            int gap = prev != 0 && no != prev + 1;

            if (gap)
                cost += sizeof(CONTEXT_GAP) - 1;
            if (cost > budget - b->len)
                return 0;
            if (gap && buf_put(b, CONTEXT_GAP, sizeof(CONTEXT_GAP) - 1) < 0)
                return -1;
            if (emit_line(b, text, l, no) < 0 || ranges_append(reviewed, no, no) < 0)
                return -1;
            prev = no;
        }
    }
    return 0;
}

static cJSON *ranges_json(const struct ranges *r)
{
    cJSON *arr = cJSON_CreateArray();

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        cJSON *pair = cJSON_CreateArray();
        if (pair == NULL || !cJSON_AddItemToArray(arr, pair)) {
            cJSON_Delete(pair);
            cJSON_Delete(arr);
            return NULL;
        }
        if (!cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)r->v[i].first)) ||
            !cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)r->v[i].last))) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* The lines of 1..total not in reviewed (sorted, disjoint). */
static int ranges_complement(const struct ranges *reviewed, long total, struct ranges *out)
{
    long next = 1;

    for (size_t i = 0; i < reviewed->n; i++) {
        if (reviewed->v[i].first > next && ranges_add(out, next, reviewed->v[i].first - 1) < 0)
            return -1;
        next = reviewed->v[i].last + 1;
    }
    if (next <= total && ranges_add(out, next, total) < 0)
        return -1;
    return 0;
}

/* ---- linter summary ---- */

struct lint_item {
    long line;
    long end_line;
    int rank;                   /* 0 = critical .. 3 = info, 4 = unknown */
    size_t index;               /* position in the input, for a stable order */
    const cJSON *f;
};

static int severity_rank(const char *s)
{
    static const char *const order[] = {"critical", "major", "minor", "info"};

    for (int i = 0; s != NULL && i < 4; i++)
        if (strcmp(s, order[i]) == 0)
            return i;
    return 4;
}

static int lint_item_cmp(const void *a, const void *b)
{
    const struct lint_item *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static long json_line(const cJSON *f, const char *key, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, key);

    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > LINE_NO_MAX)
        return dflt;
    return (long)v->valuedouble;
}

static int in_ranges(const struct ranges *r, long first, long last)
{
    for (size_t i = 0; i < r->n; i++)
        if (first <= r->v[i].last && last >= r->v[i].first)
            return 1;
    return 0;
}

/* Length of the " (name)" that ends s[0..len) (pylint's "... (unspecified-
 * encoding)"), the rule's readable name; 0 when it does not end so. */
static size_t tag_len(const char *s, size_t len)
{
    size_t i;

    if (len < 4 || s[len - 1] != ')')
        return 0;
    for (i = len - 1; i > 0 && len - 1 - i <= CONTEXT_LINT_TAG_MAX; i--) {
        char c = s[i - 1];
        if (c == '(')
            return i >= 2 && i < len - 1 && s[i - 2] == ' ' ? len - i + 2 : 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 0;
}

/* Appends s cut to max bytes (at a character boundary, "..." where it was
 * cut, a closing " (name)" kept) with control characters turned into
 * spaces. */
static int put_clean(struct buf *b, const char *s, size_t max)
{
    size_t len = strlen(s);
    size_t keep = len, tag = 0;
    size_t start;

    if (len > max) {
        tag = tag_len(s, len);
        if (tag + 3 >= max)
            tag = 0;
        keep = utf8_cut(s, len - tag, max - 3 - tag);
    }
    start = b->len;
    if (buf_put(b, s, keep) < 0)
        return -1;
    for (size_t i = start; i < b->len; i++)
        if ((unsigned char)b->p[i] < 0x20 || b->p[i] == 0x7f)
            b->p[i] = ' ';
    if (keep < len && (buf_put(b, "...", 3) < 0 || buf_put(b, s + len - tag, tag) < 0))
        return -1;
    return 0;
}

/* A finding's text field, or dflt when missing or empty. */
static const char *lint_field(const cJSON *f, const char *key, const char *dflt)
{
    const char *s = json_str(f, key);

    return s != NULL && *s ? s : dflt;
}

static int lint_same(const cJSON *f, const char *rule, const char *sev, const char *msg)
{
    return strcmp(lint_field(f, "rule_id", "-"), rule) == 0 &&
           strcmp(lint_field(f, "severity", "info"), sev) == 0 &&
           strcmp(lint_field(f, "message", ""), msg) == 0;
}

static int lint_summary(const cJSON *findings, const struct ranges *reviewed, struct buf *b)
{
    struct lint_item *items;
    size_t n = 0, i = 0, lines = 0;
    const cJSON *f;
    char head[24];
    int rc = -1;

    if (buf_put(b, "", 0) < 0)
        return -1;
    if (!cJSON_IsArray(findings))
        return 0;
    items = calloc((size_t)cJSON_GetArraySize(findings) + 1, sizeof *items);
    if (items == NULL)
        return -1;
    cJSON_ArrayForEach(f, findings) {
        struct lint_item *it = &items[n];
        i++;
        if (!cJSON_IsObject(f))
            continue;
        it->line = json_line(f, "line", 1);
        it->end_line = json_line(f, "end_line", it->line);
        if (it->end_line < it->line)
            it->end_line = it->line;
        /* Findings on lines the model does not see cannot help it. */
        if (!in_ranges(reviewed, it->line, it->end_line))
            continue;
        it->rank = severity_rank(json_str(f, "severity"));
        /* Info-level lint (conventions, docstrings, naming) is what the role
         * block tells the model not to repeat: it would only cost tokens. */
        if (it->rank == 3)
            continue;
        it->index = i;
        it->f = f;
        n++;
    }
    qsort(items, n, sizeof *items, lint_item_cmp);
    for (i = 0; i < n && lines < CONTEXT_LINT_MAX; i++) {
        const char *rule, *sev, *msg;
        long last;
        int k, grouped = 1;

        if (items[i].f == NULL)
            continue;                   /* already listed with an earlier one */
        rule = lint_field(items[i].f, "rule_id", "-");
        sev = lint_field(items[i].f, "severity", "info");
        msg = lint_field(items[i].f, "message", "");
        k = snprintf(head, sizeof(head), "L%ld", items[i].line);
        if (k < 0 || (size_t)k >= sizeof(head) || buf_put(b, head, (size_t)k) < 0)
            goto out;
        /* The same rule saying the same thing on other lines (same rank, so
         * later in the order) is one line: "L57,65,136 W1514 minor: ...". */
        last = items[i].line;
        for (size_t j = i + 1; j < n && items[j].rank == items[i].rank &&
             grouped < CONTEXT_LINT_GROUP_MAX; j++) {
            if (items[j].f == NULL || !lint_same(items[j].f, rule, sev, msg))
                continue;
            if (items[j].line != last) {
                k = snprintf(head, sizeof(head), ",%ld", items[j].line);
                if (k < 0 || (size_t)k >= sizeof(head) || buf_put(b, head, (size_t)k) < 0)
                    goto out;
                last = items[j].line;
                grouped++;
            }
            items[j].f = NULL;
        }
        if (buf_put(b, " ", 1) < 0 || put_clean(b, rule, 64) < 0 || buf_put(b, " ", 1) < 0 ||
            put_clean(b, sev, 16) < 0 || buf_put(b, ": ", 2) < 0 ||
            put_clean(b, msg, CONTEXT_LINT_MSG_MAX) < 0 || buf_put(b, "\n", 1) < 0)
            goto out;
        lines++;
    }
    rc = 0;
out:
    free(items);
    return rc;
}

/* ---- the whole ---- */

int context_build(const struct context_input *in, struct context_result *res)
{
    struct line *lines = NULL;
    struct ranges want = {0}, reviewed = {0}, skipped = {0};
    struct buf code = {0}, lint = {0};
    long total = 0;
    int rc = -1, ok;

    memset(res, 0, sizeof *res);
    if (lines_split(in->text, in->len, &lines, &total) < 0)
        goto out;

    if (in->diff != NULL && in->diff[0] != '\0') {
        ok = diff_windows(in->diff, total, &want);
        if (ok < 0)
            goto out;
        /* A malformed diff (or one that does not fit this file) is ignored
         * as a whole, and so is the cursor: the whole file is reviewed. */
        if (ok == 0)
            want.n = 0;
    }
    if (in->has_cursor && (in->diff == NULL || in->diff[0] == '\0' || want.n > 0)) {
        long first = in->cursor_line, last = in->cursor_end_line;
        if (first < 1)
            first = 1;
        if (last < first)
            last = first;
        if (last > LINE_NO_MAX)
            last = LINE_NO_MAX;
        /* A cursor past the end selects nothing: the whole file is reviewed. */
        if (first <= total && ranges_add_window(&want, first - CONTEXT_CURSOR_AROUND,
                                                last + CONTEXT_CURSOR_AROUND, total) < 0)
            goto out;
    }
    if (want.n == 0 && total > 0 && ranges_add(&want, 1, total) < 0)
        goto out;
    ranges_normalise(&want);

    if (buf_put(&code, "", 0) < 0 ||
        emit_excerpt(in->text, lines, &want, in->budget_bytes, &code, &reviewed) < 0 ||
        ranges_complement(&reviewed, total, &skipped) < 0 ||
        lint_summary(in->lint_findings, &reviewed, &lint) < 0)
        goto out;

    res->reviewed_ranges = ranges_json(&reviewed);
    res->skipped_ranges = ranges_json(&skipped);
    if (res->reviewed_ranges == NULL || res->skipped_ranges == NULL)
        goto out;
    res->code = code.p;
    res->code_len = code.len;
    res->lint_summary = lint.p;
    res->total_lines = total;
    code.p = NULL;
    lint.p = NULL;
    rc = 0;
out:
    if (rc != 0)
        context_result_cleanup(res);
    free(code.p);
    free(lint.p);
    free(want.v);
    free(reviewed.v);
    free(skipped.v);
    free(lines);
    return rc;
}

void context_result_cleanup(struct context_result *res)
{
    if (res == NULL)
        return;
    free(res->code);
    free(res->lint_summary);
    cJSON_Delete(res->reviewed_ranges);
    cJSON_Delete(res->skipped_ranges);
    memset(res, 0, sizeof *res);
}

/* Writes "only lines a-b, c-d of total are shown" into out. */
static void lines_note(const cJSON *shown, long total, char *out, size_t cap)
{
    const cJSON *rg;
    size_t used = 0;

    used += (size_t)snprintf(out, cap, "only lines ");
    cJSON_ArrayForEach(rg, shown) {
        if (used >= cap)
            break;
        used += (size_t)snprintf(out + used, cap - used, "%s%d-%d",
                                 rg == shown->child ? "" : ", ",
                                 (int)cJSON_GetNumberValue(cJSON_GetArrayItem(rg, 0)),
                                 (int)cJSON_GetNumberValue(cJSON_GetArrayItem(rg, 1)));
    }
    if (used < cap)
        snprintf(out + used, cap - used, " of %ld are shown", total);
}

void context_ranges_note(const struct context_result *c, char *out, size_t cap)
{
    out[0] = '\0';
    if (cJSON_GetArraySize(c->skipped_ranges) != 0)
        lines_note(c->reviewed_ranges, c->total_lines, out, cap);
}

/* 1 when line no lies in one of the ranges. */
static int line_shown(const cJSON *shown, long no)
{
    const cJSON *rg;

    cJSON_ArrayForEach(rg, shown)
        if (cJSON_GetNumberValue(cJSON_GetArrayItem(rg, 0)) <= (double)no &&
            (double)no <= cJSON_GetNumberValue(cJSON_GetArrayItem(rg, 1)))
            return 1;
    return 0;
}

void context_lines_note(const cJSON *shown, long total_lines, char *out, size_t cap)
{
    const cJSON *rg;
    double span = 0;
    long no;

    out[0] = '\0';
    if (total_lines <= 0)
        return;
    if (cJSON_GetArraySize(shown) == 0) {
        snprintf(out, cap, "none of its %ld lines are shown", total_lines);
        return;
    }
    /* Whole when every line is in a range: a cheap bound first, as the
     * ranges are few and a file can hold many lines. */
    cJSON_ArrayForEach(rg, shown)
        span += cJSON_GetNumberValue(cJSON_GetArrayItem(rg, 1)) -
                cJSON_GetNumberValue(cJSON_GetArrayItem(rg, 0)) + 1;
    for (no = 1; span >= (double)total_lines && no <= total_lines; no++)
        if (!line_shown(shown, no))
            break;
    if (span < (double)total_lines || no <= total_lines)
        lines_note(shown, total_lines, out, cap);
}
