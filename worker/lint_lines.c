/* lint_lines.c - linters' line numbers mapped onto the service's. */
#include "worker/lint_lines.h"

#include <stdlib.h>
#include <string.h>

/* Where a linter's line begins: the service's line, and the bytes before
 * it on that line (0 unless a lone "\r" began it). */
struct line_start {
    long line;
    long offset;
};

struct lint_lines {
    long last;                      /* the service's last line (1 for "") */
    long n;                         /* linter lines starts[0..n); 0: no lone "\r" */
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

/* Fills m->starts for a text holding a lone "\r". Returns 0 or -1. */
static int starts_fill(struct lint_lines *m, const char *text, size_t len)
{
    size_t cap = 1, line_begin = 0;
    long line = 1, n = 0;

    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n' || text[i] == '\r';
    if ((m->starts = malloc(cap * sizeof *m->starts)) == NULL)
        return -1;
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
    return 0;
}

struct lint_lines *lint_lines_new(const char *text, size_t len)
{
    struct lint_lines *m = calloc(1, sizeof *m);
    const char *p = text, *end = text + len;

    if (m == NULL)
        return NULL;
    m->last = 1;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL)
        if (++p < end)
            m->last++;
    if (len > 0 && has_lone_cr(text, len) && starts_fill(m, text, len) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

/* The number member name of f when it is a line number (>= 1), else NULL. */
static cJSON *line_item(cJSON *f, const char *name)
{
    cJSON *v = cJSON_GetObjectItem(f, name);

    return cJSON_IsNumber(v) && v->valuedouble >= 1 ? v : NULL;
}

/* A linter's line counted with lone "\r" line ends, mapped. */
static void map_cr(const struct lint_lines *m, cJSON *line, cJSON *col)
{
    const struct line_start *s;
    double past;

    if (line->valuedouble <= (double)m->n) {
        s = &m->starts[(long)line->valuedouble - 1];
        if (col != NULL)
            cJSON_SetNumberValue(col, col->valuedouble + (double)s->offset);
        cJSON_SetNumberValue(line, (double)s->line);
        return;
    }
    past = line->valuedouble - (double)m->n;
    cJSON_SetNumberValue(line, (double)m->starts[m->n - 1].line + past);
}

void lint_lines_map(const struct lint_lines *m, int cr_ends_line, cJSON *findings)
{
    cJSON *f;

    if (m == NULL)
        return;
    cJSON_ArrayForEach(f, findings) {
        cJSON *line = line_item(f, "line"), *end = line_item(f, "end_line");
        cJSON *col = cJSON_GetObjectItem(f, "column");

        if (!cJSON_IsNumber(col))
            col = NULL;
        if (cr_ends_line && m->n > 0) {
            if (line != NULL)
                map_cr(m, line, col);
            if (end != NULL)
                map_cr(m, end, NULL);
        }
        if (line != NULL && line->valuedouble > (double)m->last) {
            cJSON_SetNumberValue(line, (double)m->last);
            cJSON_DeleteItemFromObject(f, "column");
        }
        if (end != NULL && end->valuedouble > (double)m->last)
            cJSON_SetNumberValue(end, (double)m->last);
    }
}

void lint_lines_free(struct lint_lines *m)
{
    if (m == NULL)
        return;
    free(m->starts);
    free(m);
}
