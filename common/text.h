/* text.h - a growing NUL-terminated text, for documents built piece by
 * piece (the metrics exposition, a job's meta member). An allocation that
 * fails marks the text; text_finish then hands back NULL.
 *
 *     struct text t = TEXT_INIT;
 *     text_put(&t, "abc", 3);
 *     char *s = text_finish(&t);      owns, or NULL when out of memory
 */
#ifndef CI_TEXT_H
#define CI_TEXT_H

#include <stddef.h>

struct text {
    char *p;                        /* NULL until the first byte */
    size_t len, cap;
    int oom;
};

#define TEXT_INIT {NULL, 0, 0, 0}

/* Appends s[0..n). */
void text_put(struct text *t, const char *s, size_t n);

/* Appends the NUL-terminated s. */
void text_puts(struct text *t, const char *s);

/* text_put with ctx a struct text: a json_sink (common/json.h). */
void text_sink(void *ctx, const char *s, size_t n);

/* The text (malloc'd; "" when nothing was put), or NULL when an allocation
 * failed; t is spent either way. */
char *text_finish(struct text *t);

#endif
