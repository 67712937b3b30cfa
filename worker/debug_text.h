/* debug_text.h - what Debug Doctor's model reads, as text: a sandboxed run,
 * the frames, code windows around them and the neighbouring files. Every
 * result is a new string (owns; free()) or NULL when out of memory. Paths
 * and texts are written as given: the callers pass what the model may read
 * (redacted sources, their paths included) and redact what comes from a run.
 */
#ifndef WK_DEBUG_TEXT_H
#define WK_DEBUG_TEXT_H

#include <stddef.h>

#include "common/json.h"
#include "worker/traceback.h"

/* Lines either side of a frame in the code windows. */
#define DEBUG_WINDOW_RADIUS 8
/* Frames listed. */
#define DEBUG_PROMPT_FRAMES 20
/* Bytes of each output stream of a run shown (its tail). */
#define DEBUG_PROMPT_OUTPUT_MAX 4000

/* "$ argv...", the outcome ("(exit 1)", "(killed by signal 9)", "(killed:
 * timed out)"), then the stderr and stdout tails. */
char *debug_run_text(const cJSON *run);

/* "app/main.py:3 in f" lines, innermost first ("" when none). */
char *debug_frames_text(const cJSON *tb);

/* The code windows around the frames of tb that map to one of
 * src[0..nsrc) (traceback_windows, DEBUG_WINDOW_RADIUS lines each side): a
 * new array (owns), NULL only when out of memory. The prompt's windows and
 * the lines they show are both read from it, so they cannot disagree. */
cJSON *debug_windows(const cJSON *tb, const struct tb_source *src, int nsrc);

/* "--- path (around line N)" and the numbered window, for each window of w
 * (debug_windows; NULL or empty: ""). Returns it (owns), NULL when out of
 * memory. */
char *debug_windows_text(const cJSON *w);

/* The lines of src[0] (the main file) that the prompt shows, [[first,
 * last], ...] 1-based, inclusive (answer_file.shown): the windows of w
 * (debug_windows) whose source is src[0], as the template shows the
 * windows in place of the excerpt when there is any (of any source: then
 * none of src[0] means no line of it shown), else a copy of excerpt (the
 * excerpt's reviewed_ranges, context.h). Borrows everything; a new array
 * (owns), NULL when w is NULL or out of memory. */
cJSON *debug_shown_lines(const cJSON *w, const cJSON *excerpt);

/* "=== path ===" and the text of src[1..nsrc) (src[0] is the main file,
 * shown elsewhere), at most about budget bytes, the rest marked cut. */
char *debug_files_text(const struct tb_source *src, int nsrc, size_t budget);

#endif
