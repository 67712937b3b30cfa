/* tb_script.c - logs of interpreted programs: Python tracebacks, pytest,
 * Node.js stacks, shell errors, and the fallback for anything else. The
 * rules per format are in worker/traceback.c's header comment. */
#include "worker/tb_text.h"

#include "common/utf8.h"
#include "worker/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Python and pytest ---- */

/* '  File "PATH", line N[, in FUNC]'. Returns 0 with f filled, or -1. */
int tb_python_file_line(struct span l, struct frame *f)
{
    struct span t = trim(l), rest;
    const char *q;
    size_t d;

    if (!starts(t, "File \""))
        return -1;
    t = span_from(t, 6);
    q = find(t, "\", line ");
    if (q == NULL)
        return -1;
    memset(f, 0, sizeof *f);
    f->file = span_until(t, q);
    rest = span_from(t, (size_t)(q - t.p) + 8);
    d = count_digits(rest);
    if ((f->line = parse_num(span_of(rest.p, d))) < 1)
        return -1;
    rest = span_from(rest, d);
    if (starts(rest, ", in "))
        f->func = trim(span_from(rest, 5));
    return 0;
}

void tb_parse_python(struct cursor c, struct result *r)
{
    struct span l;
    struct frame f;
    int in_tb = 0, have_exc = 0;

    r->fr.outer_first = 1;
    while (tb_next_line(&c, &l)) {
        struct span t = trim(l);

        if (starts(t, "Traceback (most recent call last):")) {
            tb_frames_reset(&r->fr);
            r->type = r->msg = span_of(NULL, 0);
            in_tb = 1;
            have_exc = 0;
        } else if (tb_python_file_line(l, &f) == 0) {
            /* A File line after an exception: a new trace without header
             * (a SyntaxError printed after other output). */
            if (have_exc) {
                tb_frames_reset(&r->fr);
                r->type = r->msg = span_of(NULL, 0);
                have_exc = 0;
            }
            tb_frames_push(&r->fr, &f);
            in_tb = 1;
        } else if (in_tb && !have_exc && t.n > 0 && !is_space(l.p[0])) {
            tb_split_exception(t, &r->type, &r->msg);
            have_exc = 1;
        }
    }
}

/* "____ test_name ____" (not the "_ _ _ _" separator). */
static int pytest_section_header(struct span l)
{
    if (l.n < 3 || l.p[0] != '_' || l.p[l.n - 1] != '_')
        return 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.p[i] != '_' && l.p[i] != ' ')
            return 1;
    return 0;
}

/* "PATH:N: REST" with PATH starting the line and holding no ':' or space.
 * Returns 0 with f (no function) and *rest (trimmed), or -1. */
static int pytest_location(struct span l, struct frame *f, struct span *rest)
{
    const char *colon = l.n > 0 ? memchr(l.p, ':', l.n) : NULL;
    struct span num;
    size_t d;

    if (colon == NULL || colon == l.p || is_space(l.p[0]) ||
        memchr(l.p, ' ', (size_t)(colon - l.p)) != NULL)
        return -1;
    num = span_from(l, (size_t)(colon - l.p) + 1);
    d = count_digits(num);
    if (d == 0 || d == num.n || num.p[d] != ':' || (d + 1 < num.n && num.p[d + 1] != ' '))
        return -1;
    memset(f, 0, sizeof *f);
    f->file = span_until(l, colon);
    if ((f->line = parse_num(span_of(num.p, d))) < 1)
        return -1;
    *rest = trim(span_from(num, d + 1));
    return 0;
}

/* NAME of a "def NAME(" or "async def NAME(" line (pytest shows the
 * source with a "> " marker on the failing line), else absent. */
static struct span def_name(struct span l)
{
    struct span t = trim(l);
    size_t i;

    if (starts(t, ">"))
        t = trim(span_from(t, 1));
    if (starts(t, "async "))
        t = trim(span_from(t, 6));
    if (!starts(t, "def "))
        return span_of(NULL, 0);
    t = span_from(t, 4);
    i = name_len(t);
    if (i == 0 || i == t.n || t.p[i] != '(' || memchr(t.p, '.', i) != NULL)
        return span_of(NULL, 0);
    return span_of(t.p, i);
}

void tb_parse_pytest(struct cursor c, struct result *r)
{
    struct span l, def = {0}, e_line = {0}, loc_type = {0}, summary = {0};
    int in_failures = 0, in_section = 0, done = 0;
    struct frame f;

    r->fr.outer_first = 1;
    while (tb_next_line(&c, &l)) {
        struct span rest;

        if ((starts(l, "FAILED ") || starts(l, "ERROR ")) && summary.n == 0 && find(l, "::"))
            summary = l;
        if (done)
            continue;
        if (starts(l, "=")) {
            if (find(l, " FAILURES ") || find(l, " ERRORS "))
                in_failures = 1;
            else
                done = in_section;
        } else if (!in_failures) {
            continue;
        } else if (pytest_section_header(l)) {
            done = in_section;
            in_section = 1;
        } else if (!in_section) {
            continue;
        } else if (starts(l, "-") && find(l, " Captured ")) {
            done = 1;
        } else if (l.n > 0 && l.p[0] == 'E' && (l.n == 1 || is_space(l.p[1]))) {
            if (e_line.n == 0)
                e_line = trim(span_from(l, 1));
        } else if (def_name(l).n > 0) {
            def = def_name(l);
        } else if (tb_python_file_line(l, &f) == 0) {
            tb_frames_push(&r->fr, &f);
        } else if (pytest_location(l, &f, &rest) == 0) {
            if (starts(rest, "in ")) {
                f.func = trim(span_from(rest, 3));
            } else {
                f.func = def;
                if (rest.n > 0 && name_len(rest) == rest.n)
                    loc_type = rest;
            }
            def = span_of(NULL, 0);
            tb_frames_push(&r->fr, &f);
        }
    }
    if (e_line.n > 0) {
        tb_split_exception(e_line, &r->type, &r->msg);
    } else if (summary.n > 0) {
        /* "FAILED path::test - Type: msg" */
        struct span id = span_from(summary, (size_t)(find(summary, "::") - summary.p));
        const char *dash = find(id, " - ");
        if (dash != NULL)
            tb_split_exception(span_from(summary, (size_t)(dash - summary.p) + 3), &r->type,
                               &r->msg);
    }
    if (r->type.n == 0)
        r->type = loc_type;
}

/* ---- Node.js ---- */

/* A stack line "    at [FUNC (]LOC[)]". Returns 1 with a frame in f, 2
 * for a node:/internal/ frame, 0 for another frame line without a usable
 * location (native, eval, "<anonymous>"), -1 for not a stack line. */
int tb_node_frame(struct span l, struct frame *f)
{
    struct span t = trim(l), loc;
    const char *o;

    if (l.n == 0 || !is_space(l.p[0]) || !starts(t, "at "))
        return -1;
    t = trim(span_from(t, 3));
    memset(f, 0, sizeof *f);
    loc = t;
    if (ends(t, ")") && (o = open_paren(t)) != NULL) {
        loc = span_of(o + 1, (size_t)(t.p + t.n - 1 - (o + 1)));
        f->func = trim(span_until(t, o));
    }
    if (starts(loc, "node:") || starts(loc, "internal/"))
        return 2;
    if (find(loc, "eval at ") != NULL)
        return 0;
    if (starts(loc, "file://"))
        loc = span_from(loc, 7);
    if (tb_parse_location(loc, f) < 0 || f->column == 0)
        return 0;
    return 1;
}

/* The "PATH:LINE" (or "file://PATH:LINE") line node prints above the
 * failing source line. Returns 0 with f filled, or -1. */
static int node_header(struct span l, struct frame *f)
{
    if (l.n == 0 || memchr(l.p, ' ', l.n) != NULL || memchr(l.p, '\t', l.n) != NULL)
        return -1;
    if (starts(l, "node:"))
        return -1;
    if (starts(l, "file://"))
        l = span_from(l, 7);
    memset(f, 0, sizeof *f);
    return tb_parse_location(l, f) == 0 && f->column == 0 ? 0 : -1;
}

/* An indented line opening a nested error: "[cause]: Error: ..." or
 * AggregateError's "[errors]: [". */
static int node_nested_marker(struct span l)
{
    struct span t = trim(l);

    return is_space(l.p[0]) && (starts(t, "[cause]:") || starts(t, "[errors]:"));
}

void tb_parse_node(struct cursor c, struct result *r)
{
    struct span l, text = {0};
    struct frame f, header = {0}, chosen_header = {0};
    int in_stack = 0, collecting = 0, nested = 0;

    while (tb_next_line(&c, &l)) {
        int rc = tb_node_frame(l, &f);

        if (rc >= 0) {
            if (!in_stack) {
                in_stack = 1;
                /* A stack is the error's when an unindented line came
                 * since the last one and no "[cause]:" opened since: the
                 * lines of a message or of assert's text may be indented. */
                collecting = text.n > 0 && !nested;
                if (collecting) {
                    tb_frames_reset(&r->fr);
                    tb_split_exception(text, &r->type, &r->msg);
                    chosen_header = header;
                }
                header.line = 0;
                text = span_of(NULL, 0);
                nested = 0;
            }
            if (collecting && rc == 1)
                tb_frames_push(&r->fr, &f);
            continue;
        }
        in_stack = 0;
        if (trim(l).n == 0)
            continue;
        if (node_nested_marker(l)) {
            nested = 1;
        } else if (!is_space(l.p[0])) {
            /* The nearest unindented line is the error line; it also ends
             * any nested object ("}"). */
            text = l;
            nested = 0;
        }
        if (node_header(l, &f) == 0)
            header = f;
    }
    if (r->fr.n == 0 && chosen_header.line > 0)
        tb_frames_push(&r->fr, &chosen_header);
}

/* ---- shells ---- */

struct phrase {
    const char *text;       /* lower case, matched ignoring case */
    const char *type;
};

static const struct phrase shell_phrases[] = {
    {"syntax error", "syntax error"},
    {"command not found", "command not found"},
    {"not found", "command not found"},
    {"permission denied", "permission denied"},
    {"no such file or directory", "no such file or directory"},
    {"unbound variable", "unbound variable"},
    {"bad substitution", "bad substitution"},
};

static const char *const shell_names[] = {
    "sh", "bash", "-bash", "dash", "ksh", "mksh", "zsh", "ash", "busybox",
};

/* A $0 worth believing: a path, a *.sh / *.bash file, or a shell. */
static int shell_name_ok(struct span name)
{
    if (memchr(name.p, '/', name.n) != NULL || ends(name, ".sh") || ends(name, ".bash"))
        return 1;
    for (size_t i = 0; i < COUNT_OF(shell_names); i++)
        if (span_eq(name, span_lit(shell_names[i])))
            return 1;
    return 0;
}

/* "NAME: line N: MSG" (bash) or "NAME: N: MSG" (dash). Returns 0 with f
 * and *msg, or -1. */
int tb_shell_line(struct span l, struct frame *f, struct span *msg)
{
    const char *q = find(l, ": ");
    struct span name, rest;
    size_t d;

    if (q == NULL || q == l.p)
        return -1;
    name = span_until(l, q);
    if (memchr(name.p, ' ', name.n) != NULL || !shell_name_ok(name))
        return -1;
    rest = span_from(l, (size_t)(q - l.p) + 2);
    if (starts(rest, "line "))
        rest = span_from(rest, 5);
    d = count_digits(rest);
    if (d == 0 || !starts(span_from(rest, d), ": "))
        return -1;
    memset(f, 0, sizeof *f);
    f->file = name;
    if ((f->line = parse_num(span_of(rest.p, d))) < 1)
        return -1;
    *msg = trim(span_from(rest, d + 2));
    return 0;
}

void tb_parse_shell(struct cursor c, struct result *r)
{
    struct span l, msg;
    struct frame f, prev = {0};

    while (tb_next_line(&c, &l)) {
        if (tb_shell_line(l, &f, &msg) < 0)
            continue;
        if (r->msg.n == 0 && r->type.n == 0) {
            r->msg = msg;
            for (size_t i = 0; i < COUNT_OF(shell_phrases); i++) {
                if (contains_ci(msg, shell_phrases[i].text)) {
                    r->type = span_lit(shell_phrases[i].type);
                    break;
                }
            }
        }
        /* bash prints a syntax error and the offending line as two lines. */
        if (f.line == prev.line && span_eq(f.file, prev.file))
            continue;
        tb_frames_push(&r->fr, &f);
        prev = f;
    }
}

/* ---- anything else ---- */

/* An indented stack line: "at ..." (Java, Rust's file lines) or "N: ..."
 * (Rust's frame numbers). Its words name code ("panicking.rs",
 * "ErrorHandler.handle"), not the failure. */
static int unknown_stack_line(struct span l)
{
    struct span t = trim(l);
    size_t d = count_digits(t);

    return l.n > 0 && is_space(l.p[0]) &&
           (starts(t, "at ") || (d > 0 && starts(span_from(t, d), ": ")));
}

void tb_parse_unknown(struct cursor c, struct result *r)
{
    static const char *const words[] = {
        "error", "exception", "fatal", "fail", "panic", "abort", "segmentation fault",
    };
    struct span l;

    while (tb_next_line(&c, &l)) {
        if (unknown_stack_line(l))
            continue;
        for (size_t i = 0; i < COUNT_OF(words); i++) {
            if (contains_ci(l, words[i])) {
                r->msg = trim(l);
                break;
            }
        }
    }
}
