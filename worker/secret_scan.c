/* secret_scan.c - the helpers of one secret scan; see secret_scan.h. */
#include "worker/secret_scan.h"

#include <stdlib.h>
#include <string.h>

#include "worker/secret_text.h"

size_t scan_run_len(const struct scan *s, size_t from, byte_pred pred, size_t cap)
{
    size_t k = from;

    while (k < s->n && k - from <= cap && pred((unsigned char)s->t[k]))
        k++;
    return k - from;
}

int scan_prefix_ci(const char *v, size_t n, const char *lit)
{
    size_t len = strlen(lit), j;

    if (len > n)
        return 0;
    for (j = 0; j < len; j++)
        if (ascii_lower((unsigned char)v[j]) != (unsigned char)lit[j])
            return 0;
    return 1;
}

void scan_add(struct scan *s, size_t start, size_t end, int kind, unsigned flags)
{
    struct secret_span *v;
    size_t cap;

    if (s->oom || end <= start)
        return;
    if (s->nv == s->cap) {
        cap = s->cap != 0 ? s->cap * 2 : 16;
        v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            s->oom = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->nv].start = start;
    s->v[s->nv].end = end;
    s->v[s->nv].kind = kind;
    s->v[s->nv].flags = flags;
    s->v[s->nv].line = 0;
    s->v[s->nv].column = 0;
    s->nv++;
}

size_t scan_skip_blanks(const struct scan *s, size_t p)
{
    size_t k = p;

    while (k < s->n && k - p < ASSIGN_BLANKS_MAX && is_blank((unsigned char)s->t[k]))
        k++;
    return k;
}

size_t scan_skip_blanks_back(const struct scan *s, size_t p)
{
    size_t k = p;

    while (k > 0 && p - k < ASSIGN_BLANKS_MAX && is_blank((unsigned char)s->t[k - 1]))
        k--;
    return k;
}

int scan_assigned_name(const struct scan *s, size_t i, size_t *ns, size_t *ne)
{
    const char *t = s->t;
    size_t j = i;

    if (j > 0 && is_quote((unsigned char)t[j - 1]))
        j--;
    j = scan_skip_blanks_back(s, j);
    if (j == 0 || (t[j - 1] != '=' && t[j - 1] != ':'))
        return 0;
    j--;
    if (j > 0 && t[j] == '=' && t[j - 1] == ':')
        j--;    /* := */
    j = scan_skip_blanks_back(s, j);
    if (j > 0 && is_quote((unsigned char)t[j - 1]))
        j--;    /* a JSON key */
    *ne = j;
    while (j > 0 && *ne - j < SECRET_NAME_MAX && is_name_char((unsigned char)t[j - 1]))
        j--;
    *ns = j;
    return j < *ne;
}
