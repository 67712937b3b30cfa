/* traceback.c - the error-log parser: classification, then the format's
 * parser (tb_script.c, tb_native.c), then the result; see traceback.h.
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
 *                "node:...", unless a line starts "thread 'T'" and holds
 *                " panicked at " (Rust, whose backtrace has "at" lines too)
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
 *   node    The last stack that is not nested: its error line is the
 *           nearest unindented line above its first "at" and below the
 *           stack before (a message's further lines and assert's quoted
 *           expression are indented), and no indented "[cause]:" or
 *           "[errors]:" line came after that. Frames in node:,
 *           internal/, native, eval or "<anonymous>" are left out;
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
 *           "fail", "panic", "abort" or "segmentation fault" (any case)
 *           that is not a stack's: an indented "at ..." or "N: ..." line
 *           (Java, Rust) names a frame. A Rust panic's message is so its
 *           "thread 'main' panicked at FILE:L:C:" line.
 */
#include "worker/traceback.h"
#include "worker/tb_text.h"

#include "common/utf8.h"
#include "worker/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appended to a cut function, message or type (counted in its limit). */
#define CUT_MARK "..."

/* Cleaned strings are built in a stack buffer this large. */
#define STR_BUF_MAX TRACEBACK_MESSAGE_MAX
_Static_assert(TRACEBACK_FILE_MAX <= STR_BUF_MAX && TRACEBACK_FUNCTION_MAX <= STR_BUF_MAX &&
               TRACEBACK_TYPE_MAX <= STR_BUF_MAX && TRACEBACK_TYPE_MAX > sizeof(CUT_MARK),
               "string limits exceed the cleaning buffer");

/* ---- classification ---- */

enum hint { HINT_SAN, HINT_UBSAN, HINT_GO_PANIC, HINT_GO_FATAL, HINT_GOROUTINE, HINT_PYTEST,
            HINT_PYTHON, HINT_NODE, HINT_RUST, HINT_GCC, HINT_SHELL, HINT_COUNT };

static void classify_line(struct span l, int *hint)
{
    struct span a, b;
    struct frame f;

    if (tb_sanitizer_error(l, &a, &b) == 0)
        hint[HINT_SAN] = 1;
    if (tb_ubsan_line(l, &f, &a) == 0)
        hint[HINT_UBSAN] = 1;
    if (starts(l, "panic: "))
        hint[HINT_GO_PANIC] = 1;
    if (starts(l, "fatal error: "))
        hint[HINT_GO_FATAL] = 1;
    if (tb_go_goroutine_header(l))
        hint[HINT_GOROUTINE] = 1;
    if ((starts(l, "=") && (find(l, " FAILURES ") || find(l, " ERRORS "))) ||
        (starts(l, "FAILED ") && find(l, "::")))
        hint[HINT_PYTEST] = 1;
    if (starts(trim(l), "Traceback (most recent call last):") || tb_python_file_line(l, &f) == 0)
        hint[HINT_PYTHON] = 1;
    if (tb_node_frame(l, &f) >= 1)
        hint[HINT_NODE] = 1;
    if (starts(l, "thread '") && find(l, " panicked at ") != NULL)
        hint[HINT_RUST] = 1;
    if (!hint[HINT_GCC] && tb_gcc_line(l, &f, &a, &b) >= 0)
        hint[HINT_GCC] = 1;
    if (tb_shell_line(l, &f, &a) == 0)
        hint[HINT_SHELL] = 1;
}

/* ---- result ---- */

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
        buf[i] = tb_clean_byte(s.p[i]);
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
        cJSON *f = frame_json(tb_frames_at(&r->fr, i));
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
    while (tb_next_line(&c, &l))
        classify_line(l, hint);
    c.p = log;
    r->kind = "unknown";
    if (hint[HINT_SAN]) {
        tb_parse_sanitizer(c, r);
    } else if (hint[HINT_UBSAN]) {
        r->kind = "ubsan";
        tb_parse_ubsan(c, r);
    } else if (hint[HINT_GO_PANIC] || (hint[HINT_GO_FATAL] && hint[HINT_GOROUTINE])) {
        r->kind = "go";
        tb_parse_go(c, r);
    } else if (hint[HINT_PYTEST]) {
        r->kind = "pytest";
        tb_parse_pytest(c, r);
    } else if (hint[HINT_PYTHON]) {
        r->kind = "python";
        tb_parse_python(c, r);
    } else if (hint[HINT_NODE] && !hint[HINT_RUST]) {
        r->kind = "node";
        tb_parse_node(c, r);
    } else if (hint[HINT_GCC]) {
        r->kind = "gcc";
        tb_parse_gcc(c, r);
    } else if (hint[HINT_SHELL]) {
        r->kind = "shell";
        tb_parse_shell(c, r);
    } else {
        tb_parse_unknown(c, r);
    }
    out = result_json(r);
    free(r);
    return out;
}
