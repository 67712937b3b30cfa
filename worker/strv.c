/* strv.c - a growable argv of owned strings. */
#include "worker/strv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strv_add(struct strv *sv, const char *s)
{
    char *copy;

    if (sv->oom)
        return;
    if (sv->n + 2 > sv->cap) {
        int cap = sv->cap ? sv->cap * 2 : 32;
        char **v = realloc(sv->v, (size_t)cap * sizeof *v);
        if (v == NULL) {
            sv->oom = 1;
            return;
        }
        sv->v = v;
        sv->cap = cap;
    }
    copy = strdup(s);
    if (copy == NULL) {
        sv->oom = 1;
        return;
    }
    sv->v[sv->n++] = copy;
    sv->v[sv->n] = NULL;
}

void strv_addf(struct strv *sv, const char *fmt, ...)
{
    char buf[STRV_FORMAT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    strv_add(sv, buf);
}

void strv_free(struct strv *sv)
{
    for (int i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof *sv);
}
