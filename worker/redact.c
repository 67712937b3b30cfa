/* redact.c - finds secrets in a text and replaces them; see redact.h.
 *
 * The detectors (secret_rules.c) collect candidate spans in one linear pass
 * and a short pass around key ids. Here the spans are sorted and located,
 * values are labelled by what sits near them, overlapping spans are merged
 * (the more specific kind wins), and the text is rebuilt with one
 * placeholder per line of each span.
 *
 * A diff (redact_diff) is scanned twice, as it is and with each hunk line's
 * prefix blanked (so a value reads as it does in the file: "+AKIA..." is
 * not glued to the '+'), and the spans of both are redacted. Its syntax
 * bytes (diff_syntax) are copied even inside a span, so the placeholders
 * leave a diff that parses as the original did.
 */
#include "worker/redact.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/udiff.h"
#include "worker/secret_rules.h"

/* A diff's "Binary files X and Y differ" line (common/udiff.c). */
#define BINARY_FILES "Binary files "
#define BINARY_AND " and "
#define BINARY_DIFFER " differ"

static int span_cmp(const void *a, const void *b)
{
    const struct secret_span *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;
    return 0;
}

/* Sets line and column of sorted spans in one sweep. */
static void spans_locate(const char *t, struct secret_span *v, size_t nv)
{
    size_t pos = 0, line_start = 0, col_pos = 0, i;
    const char *nl;
    int line = 1, col = 1;

    for (i = 0; i < nv; i++) {
        while (pos < v[i].start &&
               (nl = memchr(t + pos, '\n', v[i].start - pos)) != NULL) {
            line++;
            pos = (size_t)(nl - t) + 1;
            line_start = pos;
        }
        pos = v[i].start;
        if (col_pos < line_start) {
            col_pos = line_start;
            col = 1;
        }
        for (; col_pos < v[i].start; col_pos++)
            if (((unsigned char)t[col_pos] & 0xC0) != 0x80)
                col++;
        v[i].line = line;
        v[i].column = col;
    }
}

/* Merges overlapping sorted spans in place; returns the new count. */
static size_t spans_merge(struct secret_span *v, size_t nv)
{
    size_t i, out = 0;

    for (i = 0; i < nv; i++) {
        if (out > 0 && v[i].start < v[out - 1].end) {
            if (v[i].end > v[out - 1].end)
                v[out - 1].end = v[i].end;
            if (secret_rules_kind(v[i].kind)->priority >
                secret_rules_kind(v[out - 1].kind)->priority)
                v[out - 1].kind = v[i].kind;
            continue;
        }
        v[out++] = v[i];
    }
    return out;
}

static size_t put(char *dst, size_t o, const char *src, size_t len)
{
    if (dst != NULL && len > 0)
        memcpy(dst + o, src, len);
    return o + len;
}

/* Writes the piece t[p..e) of a span, on one line, to dst at o (or only
 * measures it when dst is NULL); returns the new o. Without keep it is one
 * placeholder ph[0..phn). With keep (a diff: its syntax bytes) those bytes
 * are copied and each run of the others becomes a placeholder; an empty
 * piece (a blank line inside the span) stays empty, as a diff's blank
 * context line must. */
static size_t put_piece(char *dst, size_t o, const char *t, size_t p, size_t e,
                        const unsigned char *keep, const char *ph, size_t phn)
{
    size_t k;

    if (keep == NULL)
        return put(dst, o, ph, phn);
    while (p < e) {
        for (k = p; k < e && keep[k]; k++)
            ;
        o = put(dst, o, t + p, k - p);
        if (k == e)
            break;
        for (p = k; p < e && !keep[p]; p++)
            ;
        o = put(dst, o, ph, phn);
    }
    return o;
}

/* Writes the redacted text to dst (or only measures it when dst is NULL).
 * Returns its length. Each line piece of a span becomes one placeholder
 * (put_piece, keep: NULL or the bytes copied as they are); line breaks (\n
 * or \r\n) inside a span are kept. */
static size_t rebuild(const char *t, size_t n, const struct secret_span *v, size_t nv,
                      const unsigned char *keep, char *dst)
{
    char ph[64];
    size_t pos = 0, o = 0, i, p, end, seg, term;
    const char *nl;
    int phn;

    for (i = 0; i < nv; i++) {
        o = put(dst, o, t + pos, v[i].start - pos);
        phn = snprintf(ph, sizeof(ph), REDACT_MARK "%s]", secret_rules_kind(v[i].kind)->name);
        if (phn < 0 || (size_t)phn >= sizeof(ph))
            phn = 0;   /* cannot happen: kind names are short */
        for (p = v[i].start, end = v[i].end; p < end; ) {
            nl = memchr(t + p, '\n', end - p);
            seg = nl != NULL ? (size_t)(nl - t) : end;
            term = seg;
            if (nl != NULL && term > p && t[term - 1] == '\r')
                term--;
            o = put_piece(dst, o, t, p, term, keep, ph, (size_t)phn);
            if (nl == NULL)
                break;
            o = put(dst, o, t + term, seg + 1 - term);
            p = seg + 1;
        }
        pos = v[i].end;
    }
    return put(dst, o, t + pos, n - pos);
}

/* Appends the finding for span sp (end_line given) to arr. Returns 0, or
 * -1 when out of memory. */
static int finding_append(cJSON *arr, const struct secret_span *sp, int end_line)
{
    char rule[64], msg[128];
    cJSON *obj;

    snprintf(rule, sizeof(rule), "secret:%s", secret_rules_kind(sp->kind)->name);
    snprintf(msg, sizeof(msg), "Hard-coded %s (redacted before review)",
             secret_rules_kind(sp->kind)->what);
    obj = cJSON_CreateObject();
    if (obj == NULL)
        return -1;
    if (cJSON_AddNumberToObject(obj, "line", sp->line) == NULL ||
        (end_line > sp->line && cJSON_AddNumberToObject(obj, "end_line", end_line) == NULL) ||
        cJSON_AddNumberToObject(obj, "column", sp->column) == NULL ||
        cJSON_AddStringToObject(obj, "severity", "critical") == NULL ||
        cJSON_AddStringToObject(obj, "category", "security") == NULL ||
        cJSON_AddStringToObject(obj, "rule_id", rule) == NULL ||
        cJSON_AddStringToObject(obj, "message", msg) == NULL ||
        cJSON_AddStringToObject(obj, "source", "secrets") == NULL ||
        !cJSON_AddItemToArray(arr, obj)) {
        cJSON_Delete(obj);
        return -1;
    }
    return 0;
}

static int findings_build(const char *t, const struct secret_span *v, size_t nv, cJSON *arr)
{
    size_t i, p;
    const char *nl;
    int end_line;

    for (i = 0; i < nv && i < REDACT_FINDINGS_MAX; i++) {
        end_line = v[i].line;
        for (p = v[i].start; p < v[i].end &&
                             (nl = memchr(t + p, '\n', v[i].end - p)) != NULL; ) {
            end_line++;
            p = (size_t)(nl - t) + 1;
        }
        if (finding_append(arr, &v[i], end_line) < 0)
            return -1;
    }
    return 0;
}

/* The spans of t[0..n), and of view[0..n) when not NULL (t with some
 * bytes blanked: the same offsets), into *v and *nv (owns). Returns 0, or
 * -1 when out of memory (*v NULL). */
static int spans_find(const char *t, size_t n, const char *view, struct secret_span **v,
                      size_t *nv)
{
    struct secret_span *w = NULL, *all;
    size_t nw = 0;

    if (secret_rules_scan(t, n, v, nv) < 0)
        return -1;
    if (view == NULL)
        return 0;
    if (secret_rules_scan(view, n, &w, &nw) < 0)
        goto fail;
    if (nw > 0) {
        all = realloc(*v, (*nv + nw) * sizeof(*all));
        if (all == NULL)
            goto fail;
        memcpy(all + *nv, w, nw * sizeof(*w));
        *v = all;
        *nv += nw;
    }
    free(w);
    return 0;
fail:
    free(w);
    free(*v);
    *v = NULL;
    *nv = 0;
    return -1;
}

/* redact_text's work: the spans of t (and of view, see spans_find)
 * replaced, keep's bytes copied as they are (rebuild). */
static int redact_spans(const char *t, size_t n, const char *view, const unsigned char *keep,
                        struct redact_result *res)
{
    size_t nv, out_len;
    struct secret_span *v = NULL;

    memset(res, 0, sizeof(*res));
    if (spans_find(t, n, view, &v, &nv) < 0)
        goto fail;
    if (nv > 1)
        qsort(v, nv, sizeof(*v), span_cmp);
    spans_locate(t, v, nv);
    secret_rules_relabel(v, nv);
    nv = spans_merge(v, nv);

    res->findings = cJSON_CreateArray();
    if (res->findings == NULL || findings_build(t, v, nv, res->findings) < 0)
        goto fail;
    out_len = rebuild(t, n, v, nv, keep, NULL);
    res->text = malloc(out_len + 1);
    if (res->text == NULL)
        goto fail;
    rebuild(t, n, v, nv, keep, res->text);
    res->text[out_len] = '\0';
    res->len = out_len;
    res->count = nv > (size_t)INT_MAX ? INT_MAX : (int)nv;
    free(v);
    return 0;
fail:
    free(v);
    redact_result_cleanup(res);
    return -1;
}

int redact_text(const char *text, size_t len, struct redact_result *res)
{
    return redact_spans(text != NULL ? text : "", text != NULL ? len : 0, NULL, NULL, res);
}

/* The keyword that starts a header line of a diff (udiff.h), kept in front
 * of a placeholder so the line still reads as what it is. */
static size_t diff_keyword(const char *l, size_t n)
{
    static const char *const keywords[] = {
        "diff --git ", "diff ", "--- ", "+++ ", "index ", "old mode ", "new mode ",
        "new file mode ", "deleted file mode ", "similarity index ", "dissimilarity index ",
        "rename from ", "rename to ", "copy from ", "copy to ", BINARY_FILES,
        "GIT binary patch",
    };
    size_t i, k;

    for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        k = strlen(keywords[i]);
        if (k <= n && memcmp(l, keywords[i], k) == 0)
            return k;
    }
    return 0;
}

/* Marks in keep the syntax of the header line t[ls..le): its keyword, and
 * for "Binary files X and Y differ" the " and " and " differ" udiff looks
 * for, so the line still parses with its names replaced. */
static void diff_header_keep(const char *t, size_t ls, size_t le, unsigned char *keep)
{
    size_t k = diff_keyword(t + ls, le - ls), e = le;
    const char *and;

    memset(keep + ls, 1, k);
    if (k != sizeof(BINARY_FILES) - 1)
        return;
    if (e > ls + k && t[e - 1] == '\r')
        e--;
    if (e - (ls + k) < sizeof(BINARY_DIFFER) - 1 ||
        memcmp(t + e - (sizeof(BINARY_DIFFER) - 1), BINARY_DIFFER,
               sizeof(BINARY_DIFFER) - 1) != 0)
        return;
    e -= sizeof(BINARY_DIFFER) - 1;
    memset(keep + e, 1, sizeof(BINARY_DIFFER) - 1);
    and = memmem(t + ls + k, e - (ls + k), BINARY_AND, sizeof(BINARY_AND) - 1);
    if (and != NULL)
        memset(keep + (and - t), 1, sizeof(BINARY_AND) - 1);
}

/* Marks in keep the syntax of the line t[ls..le) (le at its '\n' or the
 * end) of hunk h: the header through its "@@" (its numbers; the section
 * after is the file's text), one byte of a body line (' ', '-' or '+') or
 * of a "\ No newline" line. Returns the bytes marked. */
static size_t diff_hunk_keep(const char *t, size_t ls, size_t le, const struct udiff_hunk *h,
                             unsigned char *keep)
{
    size_t k = le > ls ? 1 : 0;     /* an empty line is an empty context line */

    if (ls == h->offset)
        k = h->section_len > 0 ? (size_t)(h->section - t) - ls : le - ls;
    memset(keep + ls, 1, k);
    return k;
}

/* The hunks of a parsed diff, in input order. */
struct hunk_walk {
    const struct udiff *d;
    size_t file, hunk;
};

/* The walk's current hunk, or NULL past the last one. */
static const struct udiff_hunk *hunk_at(struct hunk_walk *w)
{
    while (w->file < w->d->nfiles && w->hunk >= w->d->files[w->file].nhunks) {
        w->file++;
        w->hunk = 0;
    }
    return w->file < w->d->nfiles ? &w->d->files[w->file].hunks[w->hunk] : NULL;
}

/* Sets keep[i] (n bytes, zeroed) for each syntax byte of the parsed diff
 * t[0..n) (diff_header_keep, diff_hunk_keep) and blanks, in view (a copy
 * of t), the prefix of each hunk body line. */
static void diff_syntax(const char *t, size_t n, const struct udiff *d, unsigned char *keep,
                        char *view)
{
    struct hunk_walk w = {d, 0, 0};
    const struct udiff_hunk *h = hunk_at(&w);
    size_t ls = 0, le;
    const char *nl;

    while (ls < n) {
        nl = memchr(t + ls, '\n', n - ls);
        le = nl != NULL ? (size_t)(nl - t) : n;
        while (h != NULL && ls >= h->offset + h->len) {
            w.hunk++;
            h = hunk_at(&w);
        }
        if (h == NULL || ls < h->offset)
            diff_header_keep(t, ls, le, keep);
        else if (diff_hunk_keep(t, ls, le, h, keep) == 1 && t[ls] != '\\')
            view[ls] = ' ';     /* a body line's ' ', '-' or '+' (a header is longer) */
        ls = le + 1;
    }
}

int redact_diff(const char *diff, size_t len, struct redact_result *res)
{
    struct udiff *d;
    unsigned char *keep = NULL;
    char *view = NULL;
    int rc = -1;

    if (diff == NULL || len == 0 || udiff_parse(diff, len, &d, NULL) < 0)
        return redact_text(diff, len, res);
    keep = calloc(len, 1);
    view = malloc(len);
    if (keep != NULL && view != NULL) {
        memcpy(view, diff, len);
        diff_syntax(diff, len, d, keep, view);
        rc = redact_spans(diff, len, view, keep, res);
    } else {
        memset(res, 0, sizeof(*res));
    }
    free(keep);
    free(view);
    udiff_free(d);
    return rc;
}

void redact_result_cleanup(struct redact_result *res)
{
    if (res == NULL)
        return;
    free(res->text);
    cJSON_Delete(res->findings);
    memset(res, 0, sizeof(*res));
}

int redact_diff_adds_mark(const char *diff)
{
    const char *l = diff;

    while (*l != '\0') {
        const char *end = strchr(l, '\n');
        size_t n = end != NULL ? (size_t)(end - l) : strlen(l);

        if (l[0] == '+' && strncmp(l, "+++ ", 4) != 0 &&
            memmem(l, n, REDACT_MARK, strlen(REDACT_MARK)) != NULL)
            return 1;
        if (end == NULL)
            break;
        l = end + 1;
    }
    return 0;
}

void redact_findings(cJSON *findings)
{
    cJSON *f;

    cJSON_ArrayForEach(f, findings) {
        const char *msg = json_str(f, "message");
        struct redact_result r;

        if (msg == NULL || redact_text(msg, strlen(msg), &r) != 0)
            continue;
        if (r.count > 0)
            cJSON_ReplaceItemInObjectCaseSensitive(f, "message", cJSON_CreateString(r.text));
        redact_result_cleanup(&r);
    }
}
