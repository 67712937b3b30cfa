/* traceback_map.c - frames mapped to the submitted files, and the code
 * windows around them; see traceback.h. */
#include "worker/traceback.h"
#include "worker/tb_text.h"

#include "common/utf8.h"
#include "worker/ascii.h"
#include "worker/context.h"

#include <stdlib.h>
#include <string.h>

/* Appended to a source line cut at TRACEBACK_CODE_LINE_MAX bytes. */
#define CODE_LINE_CUT " [...]"

/* ---- mapping frames to sources ---- */

/* 1 when paths a and b are the same bytes, a separator matching either
 * separator ("C:\\w\\app\\x.py" ends with "app/x.py"). */
static int path_eq(struct span a, struct span b)
{
    if (a.n != b.n)
        return 0;
    for (size_t i = 0; i < a.n; i++)
        if (a.p[i] != b.p[i] && !(is_path_sep(a.p[i]) && is_path_sep(b.p[i])))
            return 0;
    return 1;
}

/* Directories of code installed from elsewhere, matched as whole
 * components anywhere in a path: packages (npm, pip, Debian's python3-*),
 * Go's module cache, Cargo's registry. */
static const char *const library_dirs[] = {
    "node_modules", "site-packages", "dist-packages", "go/pkg/mod", ".cargo/registry",
};

/* Where toolchains and their standard libraries live: Python's and Node's
 * (also under /usr/local/lib), the official Go root, Rust's std as rustc
 * prints it ("/rustc/<commit>/library/..."). */
static const char *const library_roots[] = {
    "/usr/lib/", "/usr/local/lib/", "/usr/local/go/", "/rustc/",
};

/* 1 when path lies under a library directory or root: its file is a
 * library's, not one the job submitted, whatever its name. */
static int library_path(struct span path)
{
    for (size_t r = 0; r < COUNT_OF(library_roots); r++)
        if (starts(path, library_roots[r]))
            return 1;
    for (size_t i = 0; i < path.n; i++) {
        if (i > 0 && !is_path_sep(path.p[i - 1]))
            continue;
        for (size_t d = 0; d < COUNT_OF(library_dirs); d++) {
            size_t n = strlen(library_dirs[d]);
            if (i + n < path.n && is_path_sep(path.p[i + n]) &&
                path_eq(span_of(path.p + i, n), span_lit(library_dirs[d])))
                return 1;
        }
    }
    return 0;
}

/* Index of the source file maps to (see traceback_root_frame), or -1. */
static int map_file(const char *file, const struct tb_source *src, int nsrc)
{
    struct span fs = span_lit(file), fb = base_name(fs);
    int best = -1, base_hit = -1, base_count = 0, lib = library_path(fs);
    size_t best_len = 0;

    for (int i = 0; i < nsrc; i++) {
        struct span p;
        if (src[i].path == NULL)
            continue;
        p = span_lit(src[i].path);
        while (starts(p, "./"))
            p = span_from(p, 2);
        /* A library's index.js is not the job's index.js (and, innermost,
         * it would be the root frame); a submitted path under a library
         * directory itself (a vendored copy) may still match exactly or
         * as a suffix. */
        if (p.n == 0 || (lib && !library_path(p)))
            continue;
        if (path_eq(fs, p))
            return i;
        if (fs.n > p.n && is_path_sep(fs.p[fs.n - p.n - 1]) &&
            path_eq(span_from(fs, fs.n - p.n), p) && p.n > best_len) {
            best = i;
            best_len = p.n;
        }
        if (!lib && span_eq(base_name(p), fb)) {
            base_hit = i;
            base_count++;
        }
    }
    if (best >= 0)
        return best;
    return base_count == 1 ? base_hit : -1;
}

/* The frame's line, or 0 when it has none in range. */
static long frame_line(const cJSON *f)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "line");

    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > TRACEBACK_LINE_NO_MAX)
        return 0;
    return (long)v->valuedouble;
}

int traceback_root_frame(const cJSON *tb, const struct tb_source *src, int nsrc,
                         int *src_index)
{
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(tb, "frames"), *f;
    int i = 0;

    if (src_index != NULL)
        *src_index = -1;
    if (!cJSON_IsArray(frames) || src == NULL || nsrc <= 0)
        return -1;
    cJSON_ArrayForEach(f, frames) {
        const char *file = json_str(f, "file");
        int s = file != NULL ? map_file(file, src, nsrc) : -1;
        if (s >= 0) {
            if (src_index != NULL)
                *src_index = s;
            return i;
        }
        i++;
    }
    return -1;
}

/* ---- code windows ---- */

struct window {
    int src;
    long line;              /* the innermost frame's */
    long start;             /* 1-based, inclusive */
    long end;
};

/* Lines of text, counting no further than want ("a\nb" has 2, "a\n" 1). */
static long count_lines(const char *text, size_t len, long want)
{
    size_t i = 0;
    long n = 0;

    while (i < len && n < want) {
        const char *nl = memchr(text + i, '\n', len - i);
        n++;
        if (nl == NULL)
            break;
        i = (size_t)(nl - text) + 1;
    }
    return n;
}

/* Merges the windows of one source that overlap or touch into the first
 * of them (the innermost), keeping the order of the rest. */
static void windows_merge(struct window *w, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        for (size_t j = i + 1; j < *n; j++) {
            if (w[j].src != w[i].src || w[j].start > w[i].end + 1 || w[j].end + 1 < w[i].start)
                continue;
            if (w[j].start < w[i].start)
                w[i].start = w[j].start;
            if (w[j].end > w[i].end)
                w[i].end = w[j].end;
            memmove(&w[j], &w[j + 1], (*n - j - 1) * sizeof *w);
            (*n)--;
            j = i;          /* w[i] grew: look at the others again */
        }
    }
}

/* Writes lines start..end of text numbered as the excerpt is
 * (worker/context.h): "N\ttext\n", but a blank line, or one that only
 * closes a block, without its number; into dst (when not NULL). Returns
 * the bytes written (or needed), excluding the NUL. Control bytes of the
 * text other than tab become ' '. */
static size_t window_emit(const char *text, size_t len, long start, long end, char *dst)
{
    size_t i = 0, o = 0;
    long no = 1;

    for (; no < start && i < len; no++) {
        const char *nl = memchr(text + i, '\n', len - i);
        i = nl != NULL ? (size_t)(nl - text) + 1 : len;
    }
    for (; no <= end && i < len; no++) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - text) - i : len - i, keep;
        char num[CONTEXT_NUMBER_MAX];
        size_t k;

        if (n > 0 && text[i + n - 1] == '\r')
            n--;
        k = context_line_numbered(text + i, n) ? context_number(num, no) : 0;
        keep = utf8_cut(text + i, n, TRACEBACK_CODE_LINE_MAX);
        if (dst != NULL)
            memcpy(dst + o, num, k);
        o += k;
        if (n > 0) {
            if (dst != NULL)
                for (size_t b = 0; b < keep; b++)
                    dst[o + b] = tb_clean_byte(text[i + b]);
            o += keep;
        }
        if (keep < n) {
            if (dst != NULL)
                memcpy(dst + o, CODE_LINE_CUT, sizeof(CODE_LINE_CUT) - 1);
            o += sizeof(CODE_LINE_CUT) - 1;
        }
        if (dst != NULL)
            dst[o] = '\n';
        o++;
        i = nl != NULL ? (size_t)(nl - text) + 1 : len;
    }
    return o;
}

static cJSON *window_json(const struct window *w, const struct tb_source *s)
{
    /* At most (2 * TRACEBACK_RADIUS_MAX + 1) lines of bounded length. */
    size_t n = window_emit(s->text, s->len, w->start, w->end, NULL);
    char *code = malloc(n + 1);
    cJSON *o = cJSON_CreateObject();

    if (code == NULL || o == NULL)
        goto fail;
    window_emit(s->text, s->len, w->start, w->end, code);
    code[n] = '\0';
    utf8_sanitize(code);
    if (cJSON_AddStringToObject(o, "file", s->path) == NULL ||
        cJSON_AddNumberToObject(o, "source", (double)w->src) == NULL ||
        cJSON_AddNumberToObject(o, "line", (double)w->line) == NULL ||
        cJSON_AddNumberToObject(o, "start", (double)w->start) == NULL ||
        cJSON_AddNumberToObject(o, "end", (double)w->end) == NULL ||
        cJSON_AddStringToObject(o, "code", code) == NULL)
        goto fail;
    free(code);
    return o;
fail:
    free(code);
    cJSON_Delete(o);
    return NULL;
}

cJSON *traceback_windows(const cJSON *tb, const struct tb_source *src, int nsrc, int radius)
{
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(tb, "frames"), *f;
    struct window w[TRACEBACK_WINDOWS_MAX + 1];
    size_t n = 0;
    cJSON *arr = cJSON_CreateArray();

    if (arr == NULL)
        return NULL;
    if (!cJSON_IsArray(frames) || src == NULL || nsrc <= 0)
        return arr;
    if (radius < 0)
        radius = 0;
    if (radius > TRACEBACK_RADIUS_MAX)
        radius = TRACEBACK_RADIUS_MAX;
    cJSON_ArrayForEach(f, frames) {
        const char *file = json_str(f, "file");
        long line = frame_line(f), total;
        int s = file != NULL ? map_file(file, src, nsrc) : -1;

        if (s < 0 || line == 0 || src[s].text == NULL)
            continue;
        total = count_lines(src[s].text, src[s].len, line + radius);
        /* A line past the end: the log is not about this version. */
        if (line > total)
            continue;
        w[n].src = s;
        w[n].line = line;
        w[n].start = line - radius < 1 ? 1 : line - radius;
        w[n].end = total;
        n++;
        windows_merge(w, &n);
        if (n > TRACEBACK_WINDOWS_MAX)
            n = TRACEBACK_WINDOWS_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *o = window_json(&w[i], &src[w[i].src]);
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
