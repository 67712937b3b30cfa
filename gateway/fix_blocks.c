/* fix_blocks.c - a unified-diff fix as change blocks (fix_blocks.h). */
#include "gateway/fix_blocks.h"

#include "common/udiff.h"

#include <stdlib.h>
#include <string.h>

/* Unicode code points in s[0..len) (UTF-8: bytes that start a character). */
static long code_points(const char *s, size_t len)
{
    long n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Appends the block made of h->lines[from..to) (a run of '-' and '+' lines)
 * to out; old_at is the old line it starts at. 0, or -1 out of memory. */
static int add_block(struct fix_blocks *out, const struct udiff_hunk *h, size_t from, size_t to,
                     long old_at)
{
    struct fix_block *b, *grown;
    const struct udiff_line *last_old = NULL;
    size_t len = 0;
    char *p;

    for (size_t i = from; i < to; i++)
        if (h->lines[i].kind == '+')
            len += h->lines[i].len + !h->lines[i].no_newline;
    grown = realloc(out->v, (out->n + 1) * sizeof *out->v);
    if (grown == NULL)
        return -1;
    out->v = grown;
    b = &out->v[out->n];
    memset(b, 0, sizeof *b);
    if ((b->text = malloc(len + 1)) == NULL)
        return -1;
    out->n++;
    b->old_start = old_at;
    p = b->text;
    for (size_t i = from; i < to; i++) {
        const struct udiff_line *l = &h->lines[i];
        if (l->kind == '-') {
            b->old_count++;
            last_old = l;
            continue;
        }
        memcpy(p, l->text, l->len);
        p += l->len;
        if (!l->no_newline)
            *p++ = '\n';
    }
    *p = '\0';
    b->text_len = len;
    if (last_old != NULL && last_old->no_newline) {
        /* The file ends inside the block: end just past its last character. */
        b->end_line = last_old->old_no;
        b->end_column = code_points(last_old->text, last_old->len) + 1;
    } else {
        b->end_line = b->old_start + b->old_count;
        b->end_column = 1;
    }
    return 0;
}

static int hunk_blocks(struct fix_blocks *out, const struct udiff_hunk *h)
{
    /* "-a,0" inserts after line a: the text goes before line a + 1. */
    long next_old = h->old_count == 0 ? h->old_start + 1 : h->old_start, block_old = 0;
    size_t from = 0;
    int open = 0;

    for (size_t i = 0; i <= h->nlines; i++) {
        const struct udiff_line *l = i < h->nlines ? &h->lines[i] : NULL;
        if (l == NULL || l->kind == ' ') {
            if (open && add_block(out, h, from, i, block_old) < 0)
                return -1;
            open = 0;
            if (l != NULL)
                next_old = l->old_no + 1;
            continue;
        }
        if (!open) {
            open = 1;
            from = i;
            block_old = l->kind == '-' ? l->old_no : next_old;
        }
        if (l->kind == '-')
            next_old = l->old_no + 1;
    }
    return 0;
}

int fix_blocks_parse(const char *diff, size_t len, struct fix_blocks *out)
{
    struct udiff *d = NULL;
    const struct udiff_file *f;
    const char *name;

    memset(out, 0, sizeof *out);
    if (udiff_parse(diff, len, &d, NULL) < 0)
        return -1;
    if (d->nfiles != 1)
        goto fail;
    f = &d->files[0];
    for (size_t i = 0; i < f->nhunks; i++)
        if (hunk_blocks(out, &f->hunks[i]) < 0)
            goto fail;
    if (out->n == 0)
        goto fail;
    name = f->new_path != NULL ? f->new_path : f->old_path;
    if (name != NULL && (out->path = strdup(name)) == NULL)
        goto fail;
    udiff_free(d);
    return 0;
fail:
    udiff_free(d);
    fix_blocks_cleanup(out);
    return -1;
}

void fix_blocks_cleanup(struct fix_blocks *out)
{
    if (out == NULL)
        return;
    for (size_t i = 0; i < out->n; i++)
        free(out->v[i].text);
    free(out->v);
    free(out->path);
    memset(out, 0, sizeof *out);
}
