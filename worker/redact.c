/* redact.c - finds secrets in a text and replaces them; see redact.h.
 *
 * The detectors (secret_rules.c) collect candidate spans in one linear pass
 * and a short pass around key ids. Here the spans are sorted and located,
 * values are labelled by what sits near them, overlapping spans are merged
 * (the more specific kind wins), and the text is rebuilt with one
 * placeholder per line of each span.
 */
#include "worker/redact.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/secret_rules.h"

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

/* Writes the redacted text to dst (or only measures it when dst is NULL).
 * Returns its length. Each line piece of a span becomes one placeholder;
 * line breaks (\n or \r\n) inside a span are kept. */
static size_t rebuild(const char *t, size_t n, const struct secret_span *v, size_t nv, char *dst)
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
            o = put(dst, o, ph, (size_t)phn);
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

int redact_text(const char *text, size_t len, struct redact_result *res)
{
    const char *t = text != NULL ? text : "";
    size_t n = text != NULL ? len : 0, nv, out_len;
    struct secret_span *v = NULL;

    memset(res, 0, sizeof(*res));
    if (secret_rules_scan(t, n, &v, &nv) < 0)
        goto fail;
    if (nv > 1)
        qsort(v, nv, sizeof(*v), span_cmp);
    spans_locate(t, v, nv);
    secret_rules_relabel(v, nv);
    nv = spans_merge(v, nv);

    res->findings = cJSON_CreateArray();
    if (res->findings == NULL || findings_build(t, v, nv, res->findings) < 0)
        goto fail;
    out_len = rebuild(t, n, v, nv, NULL);
    res->text = malloc(out_len + 1);
    if (res->text == NULL)
        goto fail;
    rebuild(t, n, v, nv, res->text);
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
