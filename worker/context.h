/* context.h - what of a file the model sees: the whole file with line
 * numbers, or only the changed hunks (diff) or the cursor window with a few
 * lines around them, plus a compact linter summary; never more than the
 * input budget, and never silently clipped (reviewed and skipped ranges).
 */
#ifndef WK_CONTEXT_H
#define WK_CONTEXT_H

#include <stddef.h>

#include "common/json.h"

/* Lines of context kept around each diff hunk or cursor window. */
#define CONTEXT_AROUND 5
/* Linter findings summarised for the model, at most. */
#define CONTEXT_LINT_MAX 40

struct context_input {
    const char *text;           /* the (redacted) file, borrowed */
    size_t len;
    const char *diff;           /* unified diff against text's new side, or NULL */
    int has_cursor;
    long cursor_line;           /* 1-based, when has_cursor */
    long cursor_end_line;
    const cJSON *lint_findings; /* borrowed; may be NULL */
    size_t budget_bytes;        /* largest numbered code excerpt */
};

struct context_result {
    char *code;                 /* owns: numbered lines "  12| text\n", windows
                                   separated by a "...\n" line */
    size_t code_len;
    char *lint_summary;         /* owns: one line per finding "L12 F401 minor: msg\n",
                                   "" when none */
    cJSON *reviewed_ranges;     /* owns: [[first,last], ...] 1-based, inclusive */
    cJSON *skipped_ranges;      /* owns: likewise, the lines not sent */
    long total_lines;
};

/* Builds the context. Returns 0, or -1 when out of memory (res empty). */
int context_build(const struct context_input *in, struct context_result *res);

/* Frees the members; safe on a zeroed struct. */
void context_result_cleanup(struct context_result *res);

#endif
