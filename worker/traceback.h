/* traceback.h - reads the error log of a Debug Doctor job (a stack trace,
 * compiler or sanitizer output) into its kind, error type, message and
 * frames, maps the frames to the files the job submitted, and cuts numbered
 * code windows around them. Pure: no I/O, no global state.
 *
 *     cJSON *tb = traceback_parse(log, log_len);            // owns
 *     int s, i = traceback_root_frame(tb, src, nsrc, &s);   // src[s] failed first
 *     cJSON *win = traceback_windows(tb, src, nsrc, 5);     // owns
 *
 * The object traceback_parse returns:
 *   "kind"        "python" | "pytest" | "node" | "gcc" | "go" | "shell" |
 *                 "asan" | "ubsan" | "unknown"
 *   "error_type"  string or null: "ZeroDivisionError", "TypeError",
 *                 "error" / "fatal error" / "warning" (compiler severity),
 *                 "heap-buffer-overflow", "memory-leak", "runtime error"
 *                 (UBSan), "panic" / "fatal error" (Go), "command not
 *                 found" / "syntax error" (shell)
 *   "message"     string or null: "division by zero"
 *   "frames"      [{"file": str, "line": int >= 1, "column": int >= 1 or
 *                 null, "function": str or null}, ...], innermost first
 *                 (where the failure happened first) for every kind;
 *                 compiler diagnostics and shell errors in log order
 * Every string is valid UTF-8 without control characters other than tab
 * (invalid bytes become '?', control bytes ' '), at most its _MAX bytes.
 *
 * Formats (traceback.c lists the details): Python tracebacks, chained
 * exceptions (the last traceback wins) and the SyntaxError form; pytest's
 * failure sections (the first failed test) and "FAILED" summary lines;
 * Node.js stacks (node:internal frames are left out); gcc and clang
 * diagnostics and GNU ld errors; AddressSanitizer and LeakSanitizer
 * reports; UBSan runtime errors; Go panics and fatal errors; bash and dash
 * errors. Anything else is "unknown": the last line that reads like an
 * error and is not a stack's becomes the message, frames [] (a Rust panic,
 * backtrace or not: its "thread 'main' panicked at FILE:L:C:" line).
 */
#ifndef WK_TRACEBACK_H
#define WK_TRACEBACK_H

#include <stddef.h>

#include "common/json.h"

/* Bytes of the log examined; the rest is ignored. */
#define TRACEBACK_LOG_MAX (256 * 1024)
/* Frames kept (the innermost ones); the rest are dropped. */
#define TRACEBACK_FRAMES_MAX 64
/* Bytes of a frame's file; a frame with a longer file is dropped (a cut
 * path names no file). */
#define TRACEBACK_FILE_MAX 1024
/* Bytes of a frame's function; longer ones are cut at a character
 * boundary and end in "..." (counted in the limit). */
#define TRACEBACK_FUNCTION_MAX 256
/* Bytes of the message, cut like a function. */
#define TRACEBACK_MESSAGE_MAX 1024
/* Bytes of the error type, cut like a function. */
#define TRACEBACK_TYPE_MAX 128
/* Largest line or column number; a frame with a larger one is dropped. */
#define TRACEBACK_LINE_NO_MAX 999999999L
/* Code windows traceback_windows returns, at most. */
#define TRACEBACK_WINDOWS_MAX 8
/* Largest radius traceback_windows honours (lines either side). */
#define TRACEBACK_RADIUS_MAX 100
/* Bytes of one source line's text in a window; a longer line is cut at a
 * character boundary and ends in " [...]". */
#define TRACEBACK_CODE_LINE_MAX 500

/* A submitted file. path is relative, as submitted (NUL-terminated);
 * text[0..len) need not be NUL-terminated. All borrowed. */
struct tb_source {
    const char *path;
    const char *text;
    size_t len;
};

/* Parses log[0..len) (any bytes; log may be NULL when len is 0). Returns a
 * new object as described above (owns; cJSON_Delete), or NULL only when out
 * of memory. */
cJSON *traceback_parse(const char *log, size_t len);

/* Index into tb's "frames" of the innermost frame that maps to one of the
 * sources, with that source's index in *src_index (may be NULL); -1 (and
 * *src_index -1) when none does or tb has no frames. Borrows everything.
 *
 * A frame maps to a source when its file equals the path, else when it
 * ends with "/" + path (the longest such path wins: "/w/app/x.py" is
 * "app/x.py" rather than "x.py"), else when exactly one source has the
 * same last path component. '\' separates components as '/' does (a log
 * from Windows: "C:\w\app\x.py" ends with "app/x.py"). A library's frame
 * (a file under a node_modules, site-packages, dist-packages, go/pkg/mod or
 * .cargo/registry directory, or under /usr/lib/, /usr/local/lib/,
 * /usr/local/go/ or /rustc/) maps to no source by its last component, and
 * by its path only to a source under such a directory itself. */
int traceback_root_frame(const cJSON *tb, const struct tb_source *src, int nsrc,
                         int *src_index);

/* Numbered code windows around the frames of tb that map to a source (as
 * traceback_root_frame maps them) and whose line exists in it: radius lines
 * either side (clamped to 0..TRACEBACK_RADIUS_MAX), innermost frame first.
 * Windows of one source that overlap or touch are merged (keeping the
 * innermost frame's line); at most TRACEBACK_WINDOWS_MAX. Returns a new
 * array (owns) of {"file": source path, "source": its index into src (two
 * paths may read alike once redacted), "line": frame line, "start": first
 * line, "end": last line, "code": "12\ttext\n\n14\t..."} (numbered as
 * worker/context.c numbers the excerpt: CONTEXT_NUMBER_SEP, no padding, a
 * blank line or one that only closes a block unnumbered; a "\r" before
 * "\n" dropped, other control bytes but tab ' ', invalid UTF-8 '?'), []
 * when nothing maps; NULL only when out of memory. */
cJSON *traceback_windows(const cJSON *tb, const struct tb_source *src, int nsrc, int radius);

#endif
