/* text.c - a growing NUL-terminated text (text.h). */
#include "common/text.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_FIRST_CAP 256

void text_put(struct text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : TEXT_FIRST_CAP;
        char *np;
        while (cap < t->len + n + 1)
            cap *= 2;
        np = realloc(t->p, cap);
        if (np == NULL) {
            t->oom = 1;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void text_puts(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

void text_sink(void *ctx, const char *s, size_t n)
{
    text_put(ctx, s, n);
}

char *text_finish(struct text *t)
{
    char *p = t->p;

    if (!t->oom && p == NULL)
        p = calloc(1, 1);
    if (t->oom) {
        free(p);
        p = NULL;
    }
    *t = (struct text)TEXT_INIT;
    return p;
}
