/* tb_text.h - the traceback parser's internals (worker/traceback.c,
 * tb_script.c, tb_native.c, traceback_map.c): log lines as spans of
 * arbitrary bytes, frames, and one parser per log format. Not an interface
 * for anything else: the contract is worker/traceback.h.
 */
#ifndef WK_TB_TEXT_H
#define WK_TB_TEXT_H

#include <stddef.h>
#include <string.h>

#include "worker/ascii.h"
#include "worker/traceback.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes p[0..n), borrowed from the log (or a static string). n == 0 reads
 * as absent (JSON null). */
struct span {
    const char *p;
    size_t n;
};

struct frame {
    struct span file;
    long line;              /* 1..TRACEBACK_LINE_NO_MAX */
    long column;            /* 1..TRACEBACK_LINE_NO_MAX, 0 when absent */
    struct span func;
};

/* The frames of one trace. Formats printing the innermost frame last
 * (outer_first: Python, pytest) keep the last TRACEBACK_FRAMES_MAX in a
 * ring; the others keep the first ones. */
struct frames {
    struct frame v[TRACEBACK_FRAMES_MAX];
    size_t n;
    size_t head;            /* index of the outermost frame kept (ring) */
    int outer_first;
};

struct result {
    const char *kind;       /* static */
    struct span type;
    struct span msg;
    struct frames fr;
};

struct cursor {
    const char *p;
    const char *end;
};

/* ---- spans: small, inline ---- */

static inline struct span span_of(const char *p, size_t n)
{
    struct span s = {p, n};

    return s;
}

static inline struct span span_lit(const char *lit)
{
    return span_of(lit, strlen(lit));
}

/* s without its first off bytes (off <= s.n). */
static inline struct span span_from(struct span s, size_t off)
{
    return span_of(s.p + off, s.n - off);
}

/* s from its start up to (excluding) at, a pointer into s. */
static inline struct span span_until(struct span s, const char *at)
{
    return span_of(s.p, (size_t)(at - s.p));
}

static inline int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static inline struct span trim(struct span s)
{
    while (s.n > 0 && is_space(s.p[0]))
        s = span_from(s, 1);
    while (s.n > 0 && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static inline int starts(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static inline int ends(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static inline int span_eq(struct span a, struct span b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* First occurrence of lit in s, or NULL. */
static inline const char *find(struct span s, const char *lit)
{
    return s.n == 0 ? NULL : memmem(s.p, s.n, lit, strlen(lit));
}

/* 1 when s contains lit (lower case ASCII), ignoring ASCII case. */
static inline int contains_ci(struct span s, const char *lit)
{
    size_t m = strlen(lit);

    for (size_t i = 0; i + m <= s.n; i++) {
        size_t k = 0;
        while (k < m && ascii_lower((unsigned char)s.p[i + k]) == (unsigned char)lit[k])
            k++;
        if (k == m)
            return 1;
    }
    return 0;
}

static inline size_t count_digits(struct span s)
{
    size_t d = 0;

    while (d < s.n && ascii_is_digit((unsigned char)s.p[d]))
        d++;
    return d;
}

/* s as a decimal number (digits only, at least one), or -1 when it is not
 * one or exceeds TRACEBACK_LINE_NO_MAX. */
static inline long parse_num(struct span s)
{
    long v = 0;

    if (s.n == 0 || count_digits(s) != s.n)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        int d = s.p[i] - '0';
        if (v > (TRACEBACK_LINE_NO_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

/* Length of the dotted name [A-Za-z_][A-Za-z0-9_.]* at the start of s. */
static inline size_t name_len(struct span s)
{
    size_t i = 0;

    if (s.n == 0 || !(ascii_is_alpha((unsigned char)s.p[0]) || s.p[0] == '_'))
        return 0;
    while (i < s.n && (ascii_is_alnum_us((unsigned char)s.p[i]) || s.p[i] == '.'))
        i++;
    return i;
}

/* The '(' matching the ')' that ends s, or NULL. */
static inline const char *open_paren(struct span s)
{
    size_t depth = 0;

    for (size_t i = s.n; i > 0; i--) {
        if (s.p[i - 1] == ')')
            depth++;
        else if (s.p[i - 1] == '(' && --depth == 0)
            return s.p + i - 1;
    }
    return NULL;
}

/* A path separator: '/', or Windows' '\\' (a log may come from Windows). */
static inline int is_path_sep(char c)
{
    return c == '/' || c == '\\';
}

/* The last component of path s: after its last '/' or '\\'. */
static inline struct span base_name(struct span s)
{
    size_t i = s.n;

    while (i > 0 && !is_path_sep(s.p[i - 1]))
        i--;
    return span_from(s, i);
}

/* ch, or ' ' for a control byte other than tab (NUL included). */
static inline char tb_clean_byte(char ch)
{
    unsigned char u = (unsigned char)ch;

    return (u < 0x20 && u != '\t') || u == 0x7f ? ' ' : ch;
}

/* ---- lines and frames (tb_text.c) ---- */

/* Next line of c into *l ("\n" ends it, a "\r" before it dropped); 0 at the end. */
int tb_next_line(struct cursor *c, struct span *l);
void tb_frames_reset(struct frames *fr);
/* Keeps f unless its file is empty or too long to name a file. */
void tb_frames_push(struct frames *fr, const struct frame *f);
/* The i-th frame, innermost first (i < fr->n). */
const struct frame *tb_frames_at(const struct frames *fr, size_t i);
/* "PATH:LINE[:COL]" into f; 0, or -1 when it is not one. */
int tb_parse_location(struct span loc, struct frame *f);
/* "Type: message" / "Type" / a message alone. */
void tb_split_exception(struct span line, struct span *type, struct span *msg);

/* ---- the formats: a line that marks one (for classification), and the
 * parser filling r from the whole log ---- */

/* tb_script.c */
int tb_python_file_line(struct span l, struct frame *f);
int tb_node_frame(struct span l, struct frame *f);
int tb_shell_line(struct span l, struct frame *f, struct span *msg);
void tb_parse_python(struct cursor c, struct result *r);
void tb_parse_pytest(struct cursor c, struct result *r);
void tb_parse_node(struct cursor c, struct result *r);
void tb_parse_shell(struct cursor c, struct result *r);
void tb_parse_unknown(struct cursor c, struct result *r);

/* tb_native.c */
int tb_gcc_line(struct span l, struct frame *f, struct span *word, struct span *msg);
int tb_sanitizer_error(struct span l, struct span *name, struct span *desc);
int tb_ubsan_line(struct span l, struct frame *f, struct span *msg);
int tb_go_goroutine_header(struct span l);
void tb_parse_gcc(struct cursor c, struct result *r);
void tb_parse_sanitizer(struct cursor c, struct result *r);
void tb_parse_ubsan(struct cursor c, struct result *r);
void tb_parse_go(struct cursor c, struct result *r);

#endif
