/* tb_native.c - logs of compiled programs: gcc/clang/ld diagnostics,
 * AddressSanitizer/UBSan reports, Go panics. The rules per format are in
 * worker/traceback.c's header comment. */
#include "worker/tb_text.h"

#include "common/utf8.h"
#include "worker/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- gcc, clang, GNU ld ---- */

struct severity {
    const char *word;       /* as printed */
    int error;              /* 1 error, 0 warning, -1 note */
};

static const struct severity severities[] = {
    {"fatal error", 1}, {"error", 1}, {"warning", 0}, {"note", -1},
};

/* Drivers and tools that print "tool: error: ..." without a location. */
static const char *const compiler_tools[] = {
    "cc1", "cc1plus", "collect2", "gcc", "g++", "cc", "c++", "clang", "clang++", "ld",
    "lto-wrapper",
};

/* The first ": SEVERITY: " of l. Returns its severities[] entry with the
 * text before it in *prefix and after it in *msg, or NULL. */
static const struct severity *gcc_diag(struct span l, struct span *prefix, struct span *msg)
{
    struct span s = l;
    const char *q;

    while ((q = find(s, ": ")) != NULL) {
        struct span after = span_from(l, (size_t)(q - l.p) + 2);
        for (size_t i = 0; i < COUNT_OF(severities); i++) {
            size_t w = strlen(severities[i].word);
            if (starts(after, severities[i].word) && after.n > w && after.p[w] == ':') {
                *prefix = span_until(l, q);
                *msg = trim(span_from(after, w + 1));
                return &severities[i];
            }
        }
        s = span_from(l, (size_t)(q - l.p) + 1);
    }
    return NULL;
}

static int is_compiler_tool(struct span s)
{
    struct span b = base_name(s);

    for (size_t i = 0; i < COUNT_OF(compiler_tools); i++)
        if (span_eq(b, span_lit(compiler_tools[i])))
            return 1;
    return 0;
}

/* l without a leading "/usr/bin/ld: " (any path to ld). */
static struct span strip_ld(struct span l)
{
    const char *q = find(l, ": ");
    struct span b;

    if (q == NULL)
        return l;
    b = base_name(span_until(l, q));
    if (span_eq(b, span_lit("ld")) || ends(b, "-ld") || starts(b, "ld."))
        return span_from(l, (size_t)(q - l.p) + 2);
    return l;
}

/* A diagnostic of l: 1 error, 0 warning, -1 none (notes, lines that are
 * not diagnostics). *f gets the location when there is one (f->line 0
 * otherwise); *word the severity as a static string. */
int tb_gcc_line(struct span l, struct frame *f, struct span *word, struct span *msg)
{
    static const char *const ld_errors[] = {
        ": undefined reference to ", ": multiple definition of ",
    };
    const struct severity *sev;
    struct span prefix;

    l = strip_ld(l);
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < COUNT_OF(ld_errors); i++) {
        const char *q = find(l, ld_errors[i]);
        if (q != NULL) {
            if (tb_parse_location(span_until(l, q), f) < 0)
                f->line = 0;
            *word = span_lit("error");
            *msg = trim(span_from(l, (size_t)(q - l.p) + 2));
            return 1;
        }
    }
    sev = gcc_diag(l, &prefix, msg);
    if (sev == NULL || sev->error < 0)
        return -1;
    if (tb_parse_location(prefix, f) < 0) {
        if (!is_compiler_tool(prefix))
            return -1;
        f->line = 0;
    }
    *word = span_lit(sev->word);
    return sev->error;
}

/* The quoted name of a context line: "FILE: In function 'f':" (also
 * member function, constructor...; quotes ' or U+2018/U+2019) or ld's
 * "OBJ: in function `f':". Returns 0 with *file and *func (absent when
 * unquoted), 1 for "FILE: At top level:", -1 otherwise. */
static int gcc_context(struct span l, struct span *file, struct span *func)
{
    static const char *const opens[] = {"\xe2\x80\x98", "'", "`"};
    static const char *const closes[] = {"\xe2\x80\x99:", "':"};
    const char *q = find(l, ": In "), *open = NULL;
    size_t open_len = 0;
    struct span s;

    if (q == NULL)
        q = find(l, ": in function ");
    if (q == NULL)
        return ends(l, ": At top level:") ? 1 : -1;
    if (!ends(l, ":"))
        return -1;
    *file = span_until(l, q);
    *func = span_of(NULL, 0);
    s = span_from(l, (size_t)(q - l.p) + 2);
    for (size_t i = 0; i < COUNT_OF(opens); i++) {
        const char *o = find(s, opens[i]);
        if (o != NULL && (open == NULL || o < open)) {
            open = o;
            open_len = strlen(opens[i]);
        }
    }
    if (open == NULL)
        return 0;
    s = span_from(s, (size_t)(open - s.p) + open_len);
    for (size_t k = 0; k < COUNT_OF(closes); k++)
        if (ends(s, closes[k]))
            *func = span_of(s.p, s.n - strlen(closes[k]));
    return 0;
}

void tb_parse_gcc(struct cursor c, struct result *r)
{
    struct frames warnings = {0};
    struct span l, ctx_file = {0}, ctx_func = {0}, ld_func = {0}, wtype = {0}, wmsg = {0};

    while (tb_next_line(&c, &l)) {
        struct span word, msg, file, func;
        struct frame f;
        int ctx = gcc_context(strip_ld(l), &file, &func), sev;

        if (ctx == 1) {
            ctx_file = ctx_func = span_of(NULL, 0);
            continue;
        }
        if (ctx == 0) {
            if (strip_ld(l).p != l.p || find(l, ": in function ") != NULL) {
                ld_func = func;
            } else {
                ctx_file = file;
                ctx_func = func;
            }
            continue;
        }
        sev = tb_gcc_line(l, &f, &word, &msg);
        if (sev < 0)
            continue;
        if (find(l, ": undefined reference to ") || find(l, ": multiple definition of "))
            f.func = ld_func;
        else if (span_eq(f.file, ctx_file))
            f.func = ctx_func;
        if (sev == 1) {
            if (r->type.n == 0) {
                r->type = word;
                r->msg = msg;
            }
            tb_frames_push(&r->fr, &f);
        } else {
            if (wtype.n == 0) {
                wtype = word;
                wmsg = msg;
            }
            tb_frames_push(&warnings, &f);
        }
    }
    if (r->type.n == 0) {
        r->type = wtype;
        r->msg = wmsg;
        r->fr = warnings;
    }
}

/* ---- sanitizers ---- */

/* "==N==ERROR: <Name>Sanitizer: DESC". Returns 0 with *name and *desc. */
int tb_sanitizer_error(struct span l, struct span *name, struct span *desc)
{
    const char *e = find(l, "ERROR: ");
    const char *q;
    struct span t;

    if (e == NULL)
        return -1;
    t = span_from(l, (size_t)(e - l.p) + 7);
    q = find(t, "Sanitizer: ");
    if (q == NULL || q == t.p || memchr(t.p, ' ', (size_t)(q - t.p)) != NULL)
        return -1;
    *name = span_of(t.p, (size_t)(q - t.p) + 9);
    *desc = trim(span_from(t, (size_t)(q - t.p) + 11));
    return 0;
}

/* A sanitizer stack line "#N 0xADDR in FUNC FILE:LINE[:COL]". Returns 1
 * with f, 0 for a stack line without a source file ("(binary+0x..)"), -1
 * for not a stack line. */
static int sanitizer_frame(struct span l, struct frame *f)
{
    struct span t = trim(l), rest, loc;
    const char *q, *sp;

    if (t.n < 2 || t.p[0] != '#' || !ascii_is_digit((unsigned char)t.p[1]))
        return -1;
    q = find(t, " in ");
    if (q == NULL)
        return 0;
    rest = trim(span_from(t, (size_t)(q - t.p) + 4));
    sp = rest.n > 0 ? memrchr(rest.p, ' ', rest.n) : NULL;
    if (sp == NULL)
        return 0;
    loc = span_from(rest, (size_t)(sp - rest.p) + 1);
    if (starts(loc, "(") || ends(loc, ")"))
        return 0;
    memset(f, 0, sizeof *f);
    f->func = trim(span_until(rest, sp));
    return tb_parse_location(loc, f) == 0 ? 1 : 0;
}

/* s up to the first of " on ", " in ", " at ", " (". */
static struct span first_phrase(struct span s)
{
    static const char *const stops[] = {" on ", " in ", " at ", " ("};

    for (size_t i = 0; i < COUNT_OF(stops); i++) {
        const char *q = find(s, stops[i]);
        if (q != NULL)
            s = span_until(s, q);
    }
    return s;
}

void tb_parse_sanitizer(struct cursor c, struct result *r)
{
    struct span l, name = {0}, desc = {0}, summary = {0}, access = {0}, leak = {0};
    int state = 0;          /* 0 before ERROR, 1 before its stack, 2 in it, 3 after */
    struct frame f;

    while (tb_next_line(&c, &l)) {
        struct span t = trim(l);

        if (state == 0) {
            if (tb_sanitizer_error(l, &name, &desc) == 0)
                state = 1;
            continue;
        }
        if (state < 3) {
            int rc = sanitizer_frame(l, &f);
            if (rc >= 0) {
                state = 2;
                if (rc == 1)
                    tb_frames_push(&r->fr, &f);
                continue;
            }
            if (state == 2)
                state = 3;
        }
        if (access.n == 0 && (starts(t, "READ of size ") || starts(t, "WRITE of size ")))
            access = t;
        if (leak.n == 0 && (starts(t, "Direct leak of ") || starts(t, "Indirect leak of ")))
            leak = ends(t, " allocated from:") ? span_of(t.p, t.n - 16) : t;
        if (summary.n == 0 && starts(t, "SUMMARY: ") && find(t, "Sanitizer: ")) {
            struct span w = trim(span_from(t, (size_t)(find(t, "Sanitizer: ") - t.p) + 11));
            const char *sp = memchr(w.p, ' ', w.n);
            summary = sp != NULL ? span_until(w, sp) : w;
        }
    }
    r->kind = span_eq(name, span_lit("UndefinedBehaviorSanitizer")) ? "ubsan" : "asan";
    if (span_eq(name, span_lit("LeakSanitizer")) || starts(desc, "detected memory leaks")) {
        r->type = span_lit("memory-leak");
        r->msg = leak.n > 0 ? leak : desc;
        return;
    }
    r->type = summary.n > 0 && !ascii_is_digit((unsigned char)summary.p[0]) ? summary
                                                                             : first_phrase(desc);
    r->msg = access.n > 0 ? access : desc;
}

/* "FILE:LINE:COL: runtime error: MSG". Returns 0 with f and *msg. */
int tb_ubsan_line(struct span l, struct frame *f, struct span *msg)
{
    const char *q = find(l, ": runtime error: ");

    if (q == NULL)
        return -1;
    memset(f, 0, sizeof *f);
    if (tb_parse_location(span_until(l, q), f) < 0)
        return -1;
    *msg = trim(span_from(l, (size_t)(q - l.p) + 17));
    return 0;
}

void tb_parse_ubsan(struct cursor c, struct result *r)
{
    struct frames locations = {0};
    int state = 0;          /* 0 before the first error, 1 reading its stack, 2 after */
    struct span l, msg;
    struct frame f;

    while (tb_next_line(&c, &l)) {
        int rc;

        if (tb_ubsan_line(l, &f, &msg) == 0) {
            if (state == 0) {
                r->type = span_lit("runtime error");
                r->msg = msg;
            }
            tb_frames_push(&locations, &f);
            state = state == 0 ? 1 : 2;
            continue;
        }
        if (state == 1 && (rc = sanitizer_frame(l, &f)) >= 0) {
            if (rc == 1)
                tb_frames_push(&r->fr, &f);
            continue;
        }
        if (state == 1)
            state = 2;
    }
    if (r->fr.n == 0) {
        r->fr = locations;
    } else if (locations.n > 0 && r->fr.v[0].column == 0 &&
               r->fr.v[0].line == locations.v[0].line &&
               span_eq(r->fr.v[0].file, locations.v[0].file)) {
        /* gcc's stack frames have no column; the error line has. */
        r->fr.v[0].column = locations.v[0].column;
    }
}

/* ---- Go ---- */

/* "goroutine N [state]:" */
int tb_go_goroutine_header(struct span l)
{
    size_t d;

    if (!starts(l, "goroutine "))
        return 0;
    l = span_from(l, 10);
    d = count_digits(l);
    return d > 0 && starts(span_from(l, d), " [");
}

void tb_parse_go(struct cursor c, struct result *r)
{
    struct span l, func = {0};
    int state = 0;          /* 0 before the first goroutine, 1 in it, 2 after */
    int pending = 0;        /* a function line waits for its location line */
    struct frame f;

    while (tb_next_line(&c, &l)) {
        if (r->type.n == 0 && (starts(l, "panic: ") || starts(l, "fatal error: "))) {
            size_t skip = starts(l, "panic: ") ? 7 : 13;
            r->type = span_of(l.p, skip - 2);
            r->msg = trim(span_from(l, skip));
            if (ends(r->msg, " [recovered]"))
                r->msg.n -= 12;
            continue;
        }
        if (state == 0) {
            state = tb_go_goroutine_header(l);
            continue;
        }
        if (state != 1)
            continue;
        if (trim(l).n == 0) {
            state = 2;
        } else if (is_space(l.p[0])) {
            struct span loc = trim(l);
            const char *off = find(loc, " +0x");
            if (!pending)
                continue;
            pending = 0;
            memset(&f, 0, sizeof f);
            if (off != NULL)
                loc = span_until(loc, off);
            f.func = func;
            if (tb_parse_location(loc, &f) == 0)
                tb_frames_push(&r->fr, &f);
        } else {
            const char *o;
            /* "created by f in goroutine 1" is where the goroutine was
             * started, not a call. */
            pending = !starts(l, "created by ");
            func = trim(l);
            if (ends(func, ")") && (o = open_paren(func)) != NULL)
                func = span_until(func, o);
        }
    }
}
