/* lint_lines.h - linters' line numbers mapped onto the service's.
 *
 * The service's lines end at "\n" alone (worker/context.h,
 * common/diff_filter.h). Python's linters (universal newlines), cppcheck
 * and ESLint also end a line at a lone "\r" (one not followed by "\n"), so
 * in a file holding one they number every later line too far; and some
 * tools put an "unexpected end of file" on the line after the last (line 2
 * of "echo 'a\n"). A map built from the file as linted brings their
 * findings onto the file's lines:
 *
 *     struct lint_lines *m = lint_lines_new(text, len);
 *     lint_lines_map(m, !linter->lf_lines_only, findings);
 *     lint_lines_free(m);
 */
#ifndef WK_LINT_LINES_H
#define WK_LINT_LINES_H

#include <stddef.h>

#include "common/json.h"

struct lint_lines;

/* A map for text[0..len) (any bytes; NULL when len is 0), or NULL when
 * memory ran out (findings then keep the linters' numbers). */
struct lint_lines *lint_lines_new(const char *text, size_t len);

/* Rewrites the findings (linters.h's objects) in place:
 * - cr_ends_line: numbered with a lone "\r" as a line end too: "line" and
 *   "end_line" become the service's line, and a "column" on a line that
 *   began after a lone "\r" gets that line's byte offset within the
 *   service's line added;
 * - then a "line" or "end_line" past the file's last line becomes the last
 *   line (a "column" on such a line is dropped: it was past the text).
 * Numbers below 1 and non-numbers are left alone. m NULL: nothing is done. */
void lint_lines_map(const struct lint_lines *m, int cr_ends_line, cJSON *findings);

void lint_lines_free(struct lint_lines *m);

#endif
