/* tb_text.c - lines and frames of a log: see tb_text.h. */
#include "worker/tb_text.h"

#include "common/utf8.h"
#include "worker/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tb_next_line(struct cursor *c, struct span *l)
{
    const char *nl;

    if (c->p >= c->end)
        return 0;
    nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    *l = span_of(c->p, nl != NULL ? (size_t)(nl - c->p) : (size_t)(c->end - c->p));
    c->p = nl != NULL ? nl + 1 : c->end;
    if (l->n > 0 && l->p[l->n - 1] == '\r')
        l->n--;
    return 1;
}

/* ---- frames ---- */

void tb_frames_reset(struct frames *fr)
{
    fr->n = 0;
    fr->head = 0;
}

/* Keeps f unless its file is empty or too long to name a file. */
void tb_frames_push(struct frames *fr, const struct frame *f)
{
    if (f->file.n == 0 || f->file.n > TRACEBACK_FILE_MAX || f->line < 1)
        return;
    if (fr->n < TRACEBACK_FRAMES_MAX) {
        fr->v[(fr->head + fr->n) % TRACEBACK_FRAMES_MAX] = *f;
        fr->n++;
    } else if (fr->outer_first) {
        fr->v[fr->head] = *f;
        fr->head = (fr->head + 1) % TRACEBACK_FRAMES_MAX;
    }
}

/* The i-th frame, innermost first (i < fr->n). */
const struct frame *tb_frames_at(const struct frames *fr, size_t i)
{
    if (fr->outer_first)
        return &fr->v[(fr->head + fr->n - 1 - i) % TRACEBACK_FRAMES_MAX];
    return &fr->v[i];
}

/* "FILE:LINE" or "FILE:LINE:COL" into f (file, line, column; func
 * untouched). Returns 0, or -1 when loc is not one or a number is out of
 * range. */
int tb_parse_location(struct span loc, struct frame *f)
{
    const char *c1 = loc.n > 0 ? memrchr(loc.p, ':', loc.n) : NULL;
    const char *c2;
    struct span rest;
    long a, b;

    if (c1 == NULL || (a = parse_num(span_from(loc, (size_t)(c1 - loc.p) + 1))) < 0)
        return -1;
    rest = span_until(loc, c1);
    f->line = a;
    f->column = 0;
    c2 = rest.n > 0 ? memrchr(rest.p, ':', rest.n) : NULL;
    if (c2 != NULL) {
        struct span num = span_from(rest, (size_t)(c2 - rest.p) + 1);
        if (num.n > 0 && count_digits(num) == num.n) {
            if ((b = parse_num(num)) < 0)
                return -1;
            f->line = b;
            f->column = a;
            rest = span_until(rest, c2);
        }
    }
    f->file = rest;
    return rest.n > 0 && f->line >= 1 ? 0 : -1;
}

/* "Type: message", "Type" or anything else (no type; all of it is the
 * message). Type is a dotted name, optionally followed by Node's
 * " [ERR_CODE]". */
void tb_split_exception(struct span line, struct span *type, struct span *msg)
{
    size_t i;

    line = trim(line);
    *type = span_of(NULL, 0);
    *msg = line;
    i = name_len(line);
    if (i == 0)
        return;
    if (i == line.n) {
        *type = line;
        *msg = span_of(NULL, 0);
        return;
    }
    if (line.p[i] == ' ' && i + 1 < line.n && line.p[i + 1] == '[') {
        const char *close = find(span_from(line, i), "]:");
        if (close == NULL)
            return;
        *type = span_of(line.p, i);
        *msg = trim(span_from(line, (size_t)(close - line.p) + 2));
        return;
    }
    if (line.p[i] != ':')
        return;
    *type = span_of(line.p, i);
    *msg = trim(span_from(line, i + 1));
}
