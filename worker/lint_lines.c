/* lint_lines.c - linters' line numbers mapped onto the service's. */
#include "worker/lint_lines.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Where a linter's line begins: the service's line, and the bytes before
 * it on that line (0 unless a lone "\r" began it). */
struct line_start {
    long line;
    long offset;
};

struct lint_lines {
    long n;                         /* the linter's lines: starts[0..n) */
    struct line_start *starts;
};

/* 1 when text holds a "\r" not followed by "\n". */
static int has_lone_cr(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end && (p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        if (p + 1 == end || p[1] != '\n')
            return 1;
        p += 2;
    }
    return 0;
}

struct lint_lines *lint_lines_new(const char *text, size_t len)
{
    struct lint_lines *m;
    size_t cap = 1;
    long line = 1, n = 0;
    size_t line_begin = 0;

    if (text == NULL || !has_lone_cr(text, len))
        return NULL;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n' || text[i] == '\r';
    if ((m = malloc(sizeof *m)) == NULL)
        return NULL;
    if ((m->starts = malloc(cap * sizeof *m->starts)) == NULL) {
        free(m);
        return NULL;
    }
    m->starts[n++] = (struct line_start){1, 0};
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            line++;
            line_begin = i + 1;
        } else if (text[i] != '\r' || (i + 1 < len && text[i + 1] == '\n')) {
            continue;               /* "\r\n" ends the line at its "\n" */
        }
        if (i + 1 < len)
            m->starts[n++] = (struct line_start){line, (long)(i + 1 - line_begin)};
    }
    m->n = n;
    return m;
}

/* The service's line start of the linter's line number no (1-based); a
 * line past the text (a tool's "end of file" line) lies as far past the
 * last one. Returns 0, or -1 when no is not a line number. */
static int start_of(const struct lint_lines *m, double no, struct line_start *out)
{
    if (!(no >= 1) || no > (double)LONG_MAX / 2)
        return -1;
    if (no <= (double)m->n) {
        *out = m->starts[(long)no - 1];
        return 0;
    }
    out->line = m->starts[m->n - 1].line + ((long)no - m->n);
    out->offset = 0;
    return 0;
}

void lint_lines_map(const struct lint_lines *m, cJSON *findings)
{
    cJSON *f;

    if (m == NULL)
        return;
    cJSON_ArrayForEach(f, findings) {
        cJSON *line = cJSON_GetObjectItem(f, "line"), *end = cJSON_GetObjectItem(f, "end_line");
        cJSON *col = cJSON_GetObjectItem(f, "column");
        struct line_start s, e;

        if (cJSON_IsNumber(line) && start_of(m, line->valuedouble, &s) == 0) {
            if (cJSON_IsNumber(col))
                cJSON_SetNumberValue(col, col->valuedouble + (double)s.offset);
            cJSON_SetNumberValue(line, (double)s.line);
        }
        if (cJSON_IsNumber(end) && start_of(m, end->valuedouble, &e) == 0)
            cJSON_SetNumberValue(end, (double)e.line);
    }
}

void lint_lines_free(struct lint_lines *m)
{
    if (m == NULL)
        return;
    free(m->starts);
    free(m);
}
