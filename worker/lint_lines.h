/* lint_lines.h - linters' line numbers mapped onto the service's.
 *
 * The service's lines end at "\n" alone (worker/context.h,
 * common/diff_filter.h). Python's linters (universal newlines), cppcheck
 * and ESLint also end a line at a lone "\r" (one not followed by "\n"), so
 * in a file holding one they number every later line too far. A map built
 * from the file as linted brings their findings back:
 *
 *     struct lint_lines *m = lint_lines_new(text, len);   // NULL: nothing to map
 *     lint_lines_map(m, findings);    // each "line", "end_line", "column"
 *     lint_lines_free(m);
 */
#ifndef WK_LINT_LINES_H
#define WK_LINT_LINES_H

#include <stddef.h>

#include "common/json.h"

struct lint_lines;

/* A map for text[0..len) (any bytes), or NULL when the text holds no lone
 * "\r" (the numberings agree) or memory ran out (findings then keep the
 * linters' numbers). */
struct lint_lines *lint_lines_new(const char *text, size_t len);

/* Rewrites the findings (linters.h's objects) numbered with a lone "\r" as
 * a line end: "line" and "end_line" become the service's line, and a
 * "column" on a line that began after a lone "\r" gets that line's byte
 * offset within the service's line added; a line past the text stays as
 * far past the last one. m NULL: nothing is done. */
void lint_lines_map(const struct lint_lines *m, cJSON *findings);

void lint_lines_free(struct lint_lines *m);

#endif
