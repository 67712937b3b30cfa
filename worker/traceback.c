/* traceback.c - error-log parser, frame mapping and code windows; see
 * traceback.h.
 *
 * The log is read as lines ("\n", a "\r" before it dropped) of arbitrary
 * bytes, never as C strings: a NUL byte is an ordinary byte. Frames hold
 * pointers into the log until the result is built; only then are strings
 * copied, cleaned and cut.
 *
 * One pass classifies the log; the first kind that matches wins:
 *   asan, ubsan  "==N==ERROR: <Name>Sanitizer: DESC" (UndefinedBehavior-
 *                Sanitizer gives ubsan, any other sanitizer asan)
 *   ubsan        "FILE:LINE:COL: runtime error: MSG"
 *   go           a line starting "panic: ", or one starting "fatal error: "
 *                together with a "goroutine N [state]:" header
 *   pytest       "=== FAILURES ===" or "=== ERRORS ===", or "FAILED a::b"
 *   python       "Traceback (most recent call last):" or
 *                '  File "PATH", line N[, in FUNC]'
 *   node         "    at [FUNC (]LOC[)]" with LOC "PATH:LINE:COL" or
 *                "node:..."
 *   gcc          "FILE:LINE[:COL]: error|fatal error|warning: MSG" (or a
 *                driver: "collect2: error: ..."), GNU ld's "undefined
 *                reference to" / "multiple definition of"
 *   shell        "NAME: line N: MSG" (bash) or "NAME: N: MSG" (dash), NAME
 *                a path, a *.sh file or a shell ("bash", "sh", ...)
 *   unknown      anything else
 *
 * Per kind:
 *   python  The last traceback: a "Traceback" header or a File line after
 *           an exception line starts a new one. The exception is the first
 *           unindented line after the frames: "Type: message", "Type", or
 *           (not a dotted name) the whole line as the message. The
 *           SyntaxError form is a File line without ", in FUNC".
 *   pytest  The first failure section ("____ test_x ____" up to the next
 *           one, a "====" line or "--- Captured ... ---"): location lines
 *           "PATH:N: in FUNC" (short) or "PATH:N: [Type]" (long; the
 *           function is the last "def NAME(" shown above it), and Python
 *           File lines (--tb=native). Error from the first "E   " line,
 *           else from the first "FAILED a::b - Type: msg" line; a type
 *           missing there comes from the last "PATH:N: Type" line.
 *   node    The last stack whose error line (the line before its first
 *           "at") is unindented; "[cause]:" stacks are indented. Frames in
 *           node:, internal/, native, eval or "<anonymous>" are left out;
 *           "file://" is dropped. When no frame is left, the "PATH:LINE"
 *           header node prints above the source line is the frame.
 *   gcc     Frames: the error diagnostics in order (function from the
 *           "FILE: In function 'f':" line before them, or ld's "in
 *           function `f':"); error_type/message from the first of them.
 *           With no error, the warnings instead; notes never.
 *   asan    The first stack after the ERROR line; frames without a source
 *           file ("(binary+0x..)") are left out. error_type: the first word
 *           after "SUMMARY: <Name>Sanitizer: ", else DESC up to " on ",
 *           " in ", " at " or " ("; "memory-leak" for LeakSanitizer.
 *           message: the "READ/WRITE of size" line, the first "Direct/
 *           Indirect leak of ..." line, else DESC.
 *   ubsan   error_type "runtime error", message the first error's MSG;
 *           frames: the stack printed right after it (print_stacktrace=1;
 *           its first frame takes the error's column when it has none),
 *           else each runtime error's location in order.
 *   go      error_type "panic" or "fatal error" (the first such line),
 *           message the rest (without " [recovered]"); frames: the first
 *           goroutine block, function lines without their arguments,
 *           "created by" entries left out.
 *   shell   Frames: each error line in order (a repeat of the previous
 *           file and line is one frame); error_type by phrase ("command
 *           not found", "syntax error", ...), message the first MSG.
 *   unknown The last line containing "error", "exception", "fatal",
 *           "fail", "panic", "abort" or "segmentation fault" (any case).
 */
#include "worker/traceback.h"

#include "common/utf8.h"
#include "worker/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appended to a cut function, message or type (counted in its limit). */
#define CUT_MARK "..."
/* Appended to a source line cut at TRACEBACK_CODE_LINE_MAX bytes. */
#define CODE_LINE_CUT " [...]"

/* Cleaned strings are built in a stack buffer this large. */
#define STR_BUF_MAX TRACEBACK_MESSAGE_MAX
_Static_assert(TRACEBACK_FILE_MAX <= STR_BUF_MAX && TRACEBACK_FUNCTION_MAX <= STR_BUF_MAX &&
               TRACEBACK_TYPE_MAX <= STR_BUF_MAX && TRACEBACK_TYPE_MAX > sizeof(CUT_MARK),
               "string limits exceed the cleaning buffer");

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

/* ---- spans ---- */

static struct span span_of(const char *p, size_t n)
{
    struct span s = {p, n};

    return s;
}

static struct span span_lit(const char *lit)
{
    return span_of(lit, strlen(lit));
}

/* s without its first off bytes (off <= s.n). */
static struct span span_from(struct span s, size_t off)
{
    return span_of(s.p + off, s.n - off);
}

/* s from its start up to (excluding) at, a pointer into s. */
static struct span span_until(struct span s, const char *at)
{
    return span_of(s.p, (size_t)(at - s.p));
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static struct span trim(struct span s)
{
    while (s.n > 0 && is_space(s.p[0]))
        s = span_from(s, 1);
    while (s.n > 0 && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static int starts(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static int ends(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static int span_eq(struct span a, struct span b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* First occurrence of lit in s, or NULL. */
static const char *find(struct span s, const char *lit)
{
    return s.n == 0 ? NULL : memmem(s.p, s.n, lit, strlen(lit));
}

/* 1 when s contains lit (lower case ASCII), ignoring ASCII case. */
static int contains_ci(struct span s, const char *lit)
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

static size_t count_digits(struct span s)
{
    size_t d = 0;

    while (d < s.n && ascii_is_digit((unsigned char)s.p[d]))
        d++;
    return d;
}

/* s as a decimal number (digits only, at least one), or -1 when it is not
 * one or exceeds TRACEBACK_LINE_NO_MAX. */
static long parse_num(struct span s)
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
static size_t name_len(struct span s)
{
    size_t i = 0;

    if (s.n == 0 || !(ascii_is_alpha((unsigned char)s.p[0]) || s.p[0] == '_'))
        return 0;
    while (i < s.n && (ascii_is_alnum_us((unsigned char)s.p[i]) || s.p[i] == '.'))
        i++;
    return i;
}

/* The '(' matching the ')' that ends s, or NULL. */
static const char *open_paren(struct span s)
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

static int next_line(struct cursor *c, struct span *l)
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

static void frames_reset(struct frames *fr)
{
    fr->n = 0;
    fr->head = 0;
}

/* Keeps f unless its file is empty or too long to name a file. */
static void frames_push(struct frames *fr, const struct frame *f)
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
static const struct frame *frames_at(const struct frames *fr, size_t i)
{
    if (fr->outer_first)
        return &fr->v[(fr->head + fr->n - 1 - i) % TRACEBACK_FRAMES_MAX];
    return &fr->v[i];
}

/* "FILE:LINE" or "FILE:LINE:COL" into f (file, line, column; func
 * untouched). Returns 0, or -1 when loc is not one or a number is out of
 * range. */
static int parse_location(struct span loc, struct frame *f)
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
static void split_exception(struct span line, struct span *type, struct span *msg)
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

/* ---- Python and pytest ---- */

/* '  File "PATH", line N[, in FUNC]'. Returns 0 with f filled, or -1. */
static int python_file_line(struct span l, struct frame *f)
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

static void parse_python(struct cursor c, struct result *r)
{
    struct span l;
    struct frame f;
    int in_tb = 0, have_exc = 0;

    r->fr.outer_first = 1;
    while (next_line(&c, &l)) {
        struct span t = trim(l);

        if (starts(t, "Traceback (most recent call last):")) {
            frames_reset(&r->fr);
            r->type = r->msg = span_of(NULL, 0);
            in_tb = 1;
            have_exc = 0;
        } else if (python_file_line(l, &f) == 0) {
            /* A File line after an exception: a new trace without header
             * (a SyntaxError printed after other output). */
            if (have_exc) {
                frames_reset(&r->fr);
                r->type = r->msg = span_of(NULL, 0);
                have_exc = 0;
            }
            frames_push(&r->fr, &f);
            in_tb = 1;
        } else if (in_tb && !have_exc && t.n > 0 && !is_space(l.p[0])) {
            split_exception(t, &r->type, &r->msg);
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

static void parse_pytest(struct cursor c, struct result *r)
{
    struct span l, def = {0}, e_line = {0}, loc_type = {0}, summary = {0};
    int in_failures = 0, in_section = 0, done = 0;
    struct frame f;

    r->fr.outer_first = 1;
    while (next_line(&c, &l)) {
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
        } else if (python_file_line(l, &f) == 0) {
            frames_push(&r->fr, &f);
        } else if (pytest_location(l, &f, &rest) == 0) {
            if (starts(rest, "in ")) {
                f.func = trim(span_from(rest, 3));
            } else {
                f.func = def;
                if (rest.n > 0 && name_len(rest) == rest.n)
                    loc_type = rest;
            }
            def = span_of(NULL, 0);
            frames_push(&r->fr, &f);
        }
    }
    if (e_line.n > 0) {
        split_exception(e_line, &r->type, &r->msg);
    } else if (summary.n > 0) {
        /* "FAILED path::test - Type: msg" */
        struct span id = span_from(summary, (size_t)(find(summary, "::") - summary.p));
        const char *dash = find(id, " - ");
        if (dash != NULL)
            split_exception(span_from(summary, (size_t)(dash - summary.p) + 3), &r->type, &r->msg);
    }
    if (r->type.n == 0)
        r->type = loc_type;
}

/* ---- Node.js ---- */

/* A stack line "    at [FUNC (]LOC[)]". Returns 1 with a frame in f, 2
 * for a node:/internal/ frame, 0 for another frame line without a usable
 * location (native, eval, "<anonymous>"), -1 for not a stack line. */
static int node_frame(struct span l, struct frame *f)
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
    if (parse_location(loc, f) < 0 || f->column == 0)
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
    return parse_location(l, f) == 0 && f->column == 0 ? 0 : -1;
}

static void parse_node(struct cursor c, struct result *r)
{
    struct span l, text = {0};
    struct frame f, header = {0}, chosen_header = {0};
    int in_stack = 0, collecting = 0;

    while (next_line(&c, &l)) {
        int rc = node_frame(l, &f);

        if (rc >= 0) {
            if (!in_stack) {
                in_stack = 1;
                /* A stack under an indented error line is a "[cause]". */
                collecting = text.n > 0 && !is_space(text.p[0]);
                if (collecting) {
                    frames_reset(&r->fr);
                    split_exception(text, &r->type, &r->msg);
                    chosen_header = header;
                }
                header.line = 0;
            }
            if (collecting && rc == 1)
                frames_push(&r->fr, &f);
            continue;
        }
        in_stack = 0;
        if (trim(l).n == 0)
            continue;
        text = l;
        if (node_header(l, &f) == 0)
            header = f;
    }
    if (r->fr.n == 0 && chosen_header.line > 0)
        frames_push(&r->fr, &chosen_header);
}

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

static struct span base_name(struct span s)
{
    const char *slash = s.n > 0 ? memrchr(s.p, '/', s.n) : NULL;

    return slash != NULL ? span_from(s, (size_t)(slash - s.p) + 1) : s;
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
static int gcc_line(struct span l, struct frame *f, struct span *word, struct span *msg)
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
            if (parse_location(span_until(l, q), f) < 0)
                f->line = 0;
            *word = span_lit("error");
            *msg = trim(span_from(l, (size_t)(q - l.p) + 2));
            return 1;
        }
    }
    sev = gcc_diag(l, &prefix, msg);
    if (sev == NULL || sev->error < 0)
        return -1;
    if (parse_location(prefix, f) < 0) {
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

static void parse_gcc(struct cursor c, struct result *r)
{
    struct frames warnings = {0};
    struct span l, ctx_file = {0}, ctx_func = {0}, ld_func = {0}, wtype = {0}, wmsg = {0};

    while (next_line(&c, &l)) {
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
        sev = gcc_line(l, &f, &word, &msg);
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
            frames_push(&r->fr, &f);
        } else {
            if (wtype.n == 0) {
                wtype = word;
                wmsg = msg;
            }
            frames_push(&warnings, &f);
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
static int sanitizer_error(struct span l, struct span *name, struct span *desc)
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
    return parse_location(loc, f) == 0 ? 1 : 0;
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

static void parse_sanitizer(struct cursor c, struct result *r)
{
    struct span l, name = {0}, desc = {0}, summary = {0}, access = {0}, leak = {0};
    int state = 0;          /* 0 before ERROR, 1 before its stack, 2 in it, 3 after */
    struct frame f;

    while (next_line(&c, &l)) {
        struct span t = trim(l);

        if (state == 0) {
            if (sanitizer_error(l, &name, &desc) == 0)
                state = 1;
            continue;
        }
        if (state < 3) {
            int rc = sanitizer_frame(l, &f);
            if (rc >= 0) {
                state = 2;
                if (rc == 1)
                    frames_push(&r->fr, &f);
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
static int ubsan_line(struct span l, struct frame *f, struct span *msg)
{
    const char *q = find(l, ": runtime error: ");

    if (q == NULL)
        return -1;
    memset(f, 0, sizeof *f);
    if (parse_location(span_until(l, q), f) < 0)
        return -1;
    *msg = trim(span_from(l, (size_t)(q - l.p) + 17));
    return 0;
}

static void parse_ubsan(struct cursor c, struct result *r)
{
    struct frames locations = {0};
    int state = 0;          /* 0 before the first error, 1 reading its stack, 2 after */
    struct span l, msg;
    struct frame f;

    while (next_line(&c, &l)) {
        int rc;

        if (ubsan_line(l, &f, &msg) == 0) {
            if (state == 0) {
                r->type = span_lit("runtime error");
                r->msg = msg;
            }
            frames_push(&locations, &f);
            state = state == 0 ? 1 : 2;
            continue;
        }
        if (state == 1 && (rc = sanitizer_frame(l, &f)) >= 0) {
            if (rc == 1)
                frames_push(&r->fr, &f);
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
static int go_goroutine_header(struct span l)
{
    size_t d;

    if (!starts(l, "goroutine "))
        return 0;
    l = span_from(l, 10);
    d = count_digits(l);
    return d > 0 && starts(span_from(l, d), " [");
}

static void parse_go(struct cursor c, struct result *r)
{
    struct span l, func = {0};
    int state = 0;          /* 0 before the first goroutine, 1 in it, 2 after */
    int pending = 0;        /* a function line waits for its location line */
    struct frame f;

    while (next_line(&c, &l)) {
        if (r->type.n == 0 && (starts(l, "panic: ") || starts(l, "fatal error: "))) {
            size_t skip = starts(l, "panic: ") ? 7 : 13;
            r->type = span_of(l.p, skip - 2);
            r->msg = trim(span_from(l, skip));
            if (ends(r->msg, " [recovered]"))
                r->msg.n -= 12;
            continue;
        }
        if (state == 0) {
            state = go_goroutine_header(l);
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
            if (parse_location(loc, &f) == 0)
                frames_push(&r->fr, &f);
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
static int shell_line(struct span l, struct frame *f, struct span *msg)
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

static void parse_shell(struct cursor c, struct result *r)
{
    struct span l, msg;
    struct frame f, prev = {0};

    while (next_line(&c, &l)) {
        if (shell_line(l, &f, &msg) < 0)
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
        frames_push(&r->fr, &f);
        prev = f;
    }
}

/* ---- anything else ---- */

static void parse_unknown(struct cursor c, struct result *r)
{
    static const char *const words[] = {
        "error", "exception", "fatal", "fail", "panic", "abort", "segmentation fault",
    };
    struct span l;

    while (next_line(&c, &l)) {
        for (size_t i = 0; i < COUNT_OF(words); i++) {
            if (contains_ci(l, words[i])) {
                r->msg = trim(l);
                break;
            }
        }
    }
}

/* ---- classification ---- */

enum hint { HINT_SAN, HINT_UBSAN, HINT_GO_PANIC, HINT_GO_FATAL, HINT_GOROUTINE, HINT_PYTEST,
            HINT_PYTHON, HINT_NODE, HINT_GCC, HINT_SHELL, HINT_COUNT };

static void classify_line(struct span l, int *hint)
{
    struct span a, b;
    struct frame f;

    if (sanitizer_error(l, &a, &b) == 0)
        hint[HINT_SAN] = 1;
    if (ubsan_line(l, &f, &a) == 0)
        hint[HINT_UBSAN] = 1;
    if (starts(l, "panic: "))
        hint[HINT_GO_PANIC] = 1;
    if (starts(l, "fatal error: "))
        hint[HINT_GO_FATAL] = 1;
    if (go_goroutine_header(l))
        hint[HINT_GOROUTINE] = 1;
    if ((starts(l, "=") && (find(l, " FAILURES ") || find(l, " ERRORS "))) ||
        (starts(l, "FAILED ") && find(l, "::")))
        hint[HINT_PYTEST] = 1;
    if (starts(trim(l), "Traceback (most recent call last):") || python_file_line(l, &f) == 0)
        hint[HINT_PYTHON] = 1;
    if (node_frame(l, &f) >= 1)
        hint[HINT_NODE] = 1;
    if (!hint[HINT_GCC] && gcc_line(l, &f, &a, &b) >= 0)
        hint[HINT_GCC] = 1;
    if (shell_line(l, &f, &a) == 0)
        hint[HINT_SHELL] = 1;
}

/* ---- result ---- */

/* ch, or ' ' for a control byte other than tab (NUL included). */
static char clean_byte(char ch)
{
    unsigned char u = (unsigned char)ch;

    return (u < 0x20 && u != '\t') || u == 0x7f ? ' ' : ch;
}

/* Copies s into buf (max + 1 bytes): control bytes become ' ' (tab
 * kept), bytes that are not valid UTF-8 '?', and past max bytes it is cut
 * at a character boundary to end in CUT_MARK. */
static void clean_copy(struct span s, char *buf, size_t max)
{
    size_t n = s.n;
    int cut = 0;

    if (n > max) {
        n = utf8_cut(s.p, s.n, max - (sizeof(CUT_MARK) - 1));
        cut = 1;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = clean_byte(s.p[i]);
    if (cut) {
        memcpy(buf + n, CUT_MARK, sizeof(CUT_MARK) - 1);
        n += sizeof(CUT_MARK) - 1;
    }
    buf[n] = '\0';
    utf8_sanitize(buf);
}

/* Adds name: s (cleaned, at most max bytes) to o, or null when s is empty.
 * Returns 0, or -1 when out of memory. */
static int add_span(cJSON *o, const char *name, struct span s, size_t max)
{
    char buf[STR_BUF_MAX + 1];

    if (s.n == 0)
        return cJSON_AddNullToObject(o, name) != NULL ? 0 : -1;
    clean_copy(s, buf, max);
    return cJSON_AddStringToObject(o, name, buf) != NULL ? 0 : -1;
}

static cJSON *frame_json(const struct frame *f)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || add_span(o, "file", f->file, TRACEBACK_FILE_MAX) < 0 ||
        cJSON_AddNumberToObject(o, "line", (double)f->line) == NULL ||
        (f->column > 0 ? cJSON_AddNumberToObject(o, "column", (double)f->column)
                       : cJSON_AddNullToObject(o, "column")) == NULL ||
        add_span(o, "function", f->func, TRACEBACK_FUNCTION_MAX) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *result_json(const struct result *r)
{
    cJSON *o = cJSON_CreateObject(), *frames;

    if (o == NULL || cJSON_AddStringToObject(o, "kind", r->kind) == NULL ||
        add_span(o, "error_type", r->type, TRACEBACK_TYPE_MAX) < 0 ||
        add_span(o, "message", r->msg, TRACEBACK_MESSAGE_MAX) < 0 ||
        (frames = cJSON_AddArrayToObject(o, "frames")) == NULL)
        goto fail;
    for (size_t i = 0; i < r->fr.n; i++) {
        cJSON *f = frame_json(frames_at(&r->fr, i));
        if (f == NULL || !cJSON_AddItemToArray(frames, f)) {
            cJSON_Delete(f);
            goto fail;
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *traceback_parse(const char *log, size_t len)
{
    struct result *r;
    struct cursor c;
    struct span l;
    int hint[HINT_COUNT] = {0};
    cJSON *out;

    if (log == NULL) {
        log = "";
        len = 0;
    }
    if (len > TRACEBACK_LOG_MAX)
        len = TRACEBACK_LOG_MAX;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    c.p = log;
    c.end = log + len;
    while (next_line(&c, &l))
        classify_line(l, hint);
    c.p = log;
    r->kind = "unknown";
    if (hint[HINT_SAN]) {
        parse_sanitizer(c, r);
    } else if (hint[HINT_UBSAN]) {
        r->kind = "ubsan";
        parse_ubsan(c, r);
    } else if (hint[HINT_GO_PANIC] || (hint[HINT_GO_FATAL] && hint[HINT_GOROUTINE])) {
        r->kind = "go";
        parse_go(c, r);
    } else if (hint[HINT_PYTEST]) {
        r->kind = "pytest";
        parse_pytest(c, r);
    } else if (hint[HINT_PYTHON]) {
        r->kind = "python";
        parse_python(c, r);
    } else if (hint[HINT_NODE]) {
        r->kind = "node";
        parse_node(c, r);
    } else if (hint[HINT_GCC]) {
        r->kind = "gcc";
        parse_gcc(c, r);
    } else if (hint[HINT_SHELL]) {
        r->kind = "shell";
        parse_shell(c, r);
    } else {
        parse_unknown(c, r);
    }
    out = result_json(r);
    free(r);
    return out;
}

/* ---- mapping frames to sources ---- */

/* Index of the source file maps to (see traceback_root_frame), or -1. */
static int map_file(const char *file, const struct tb_source *src, int nsrc)
{
    struct span fs = span_lit(file), fb = base_name(fs);
    int best = -1, base_hit = -1, base_count = 0;
    size_t best_len = 0;

    for (int i = 0; i < nsrc; i++) {
        struct span p;
        if (src[i].path == NULL)
            continue;
        p = span_lit(src[i].path);
        while (starts(p, "./"))
            p = span_from(p, 2);
        if (p.n == 0)
            continue;
        if (span_eq(fs, p))
            return i;
        if (fs.n > p.n && fs.p[fs.n - p.n - 1] == '/' &&
            memcmp(fs.p + fs.n - p.n, p.p, p.n) == 0 && p.n > best_len) {
            best = i;
            best_len = p.n;
        }
        if (span_eq(base_name(p), fb)) {
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

/* Writes lines start..end of text as "N| text\n" ("N|\n" when empty) into
 * dst (when not NULL). Returns the bytes written (or needed), excluding
 * the NUL. Control bytes of the text other than tab become ' '. */
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
        char num[24];
        int k = snprintf(num, sizeof(num), "%ld|", no);

        if (n > 0 && text[i + n - 1] == '\r')
            n--;
        keep = utf8_cut(text + i, n, TRACEBACK_CODE_LINE_MAX);
        if (dst != NULL)
            memcpy(dst + o, num, (size_t)k);
        o += (size_t)k;
        if (n > 0) {
            if (dst != NULL)
                for (size_t b = 0; b < keep; b++)
                    dst[o + b] = clean_byte(text[i + b]);
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
