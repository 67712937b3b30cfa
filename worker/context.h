/* context.h - what of a file the model sees: the whole file with line
 * numbers, or only the changed hunks (diff) or the cursor window with a few
 * lines around them, plus a compact linter summary; never more than the
 * input budget, and never silently clipped (reviewed and skipped ranges).
 */
#ifndef WK_CONTEXT_H
#define WK_CONTEXT_H

#include <stddef.h>

#include "common/decimal.h"
#include "common/json.h"

/* Lines of context kept around each diff hunk or cursor window. */
#define CONTEXT_AROUND 5
/* Lines kept on each side of the cursor window (cursor_line..cursor_end_line). */
#define CONTEXT_CURSOR_AROUND 20
/* Bytes of one line's text in the excerpt; a longer line is cut at a
 * character boundary and ends in " [...]" (it still counts as reviewed). */
#define CONTEXT_LINE_MAX 1000
/* What follows a line's number in the excerpt ("12\tcode"): a tab, as
 * `cat -n` prints it. One character, like the "|" used before, but
 * tokenizers like o200k_base join a tab to the line's indentation where
 * "|" costs a token of its own on every line (bench/README.md, "Tokens:
 * characters / 4 against BPE"); and the code after it keeps its own
 * indentation unambiguously, which a space would not. */
#define CONTEXT_NUMBER_SEP '\t'
/* Lines of the linter summary for the model, at most. */
#define CONTEXT_LINT_MAX 40
/* Line numbers on one summary line: identical findings (same rule, severity
 * and message) on several lines are listed once, "L57,65,136 W1514 ...". */
#define CONTEXT_LINT_GROUP_MAX 16
/* Bytes of a finding's message in the summary; a longer one is cut and
 * marked "...", keeping a closing " (name)" of at most CONTEXT_LINT_TAG_MAX
 * characters (pylint's readable rule name: "... (raise-missing-from)"). */
#define CONTEXT_LINT_MSG_MAX 160
#define CONTEXT_LINT_TAG_MAX 64

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
    char *code;                 /* owns: numbered lines "12\ttext\n" (no
                                   padding, to save tokens); a blank line, or
                                   one that only closes a block ("  }",
                                   "});", "end", "fi"), goes unnumbered;
                                   windows separated by a "...\n" line */
    size_t code_len;
    char *lint_summary;         /* owns: one line per finding "L12 F401 minor: msg\n",
                                   "" when none */
    cJSON *reviewed_ranges;     /* owns: [[first,last], ...] 1-based, inclusive */
    cJSON *skipped_ranges;      /* owns: likewise, the lines not sent */
    long total_lines;
};

/* Builds the context. Returns 0, or -1 when out of memory (res empty).
 *
 * Lines end at "\n"; a "\r" before it is dropped, and a last line without
 * "\n" counts. Selection: with a diff, the new-side range of each hunk
 * +- CONTEXT_AROUND; with a cursor, its window +- CONTEXT_CURSOR_AROUND;
 * both when both are given; overlapping or adjacent windows merge. A
 * malformed diff (one common/udiff.h refuses, no hunk, hunks past the end
 * of the file, or more than one file) is ignored together with the cursor, and the
 * whole file is selected; so is the whole file when there is neither diff
 * nor cursor, or the cursor is past the end. The selection is then emitted
 * in line order while it fits budget_bytes (code_len <= budget_bytes); the
 * first line that does not fit ends the excerpt. reviewed_ranges and
 * skipped_ranges together cover 1..total_lines exactly, without overlap
 * (both [] for an empty file). The lint summary lists only findings on
 * reviewed lines, most severe first, then by line. */
int context_build(const struct context_input *in, struct context_result *res);

/* Whether s[0..len) only closes a block: after its indentation, nothing but
 * ")]};," with at least one bracket ("}", "});", "],"), or exactly "end",
 * "fi", "done" or "esac" (Ruby, Lua, shell). Such lines go unnumbered in the
 * excerpt. */
#define CONTEXT_CLOSER_MAX 80       /* longest such line, indentation included */
int context_line_closes(const char *s, size_t len);

/* Whether the excerpt numbers the line s[0..len) (its ending excluded):
 * neither blank nor only closing a block. A finding or a fix never needs
 * the number of the others; the next numbered line places them. */
int context_line_numbered(const char *s, size_t len);

/* Room context_number needs: decimal_str's and the separator. */
#define CONTEXT_NUMBER_MAX (DECIMAL_STR_MAX + 1)
/* Writes line no's prefix, "<no>" and CONTEXT_NUMBER_SEP (no NUL), at out;
 * returns its length. */
size_t context_number(char out[CONTEXT_NUMBER_MAX], long no);

/* Frees the members; safe on a zeroed struct. */
void context_result_cleanup(struct context_result *res);

/* Writes "only lines 1-400, 900-950 of 2000 are shown" into out (cap bytes)
 * when the excerpt leaves lines out, else "". */
void context_ranges_note(const struct context_result *c, char *out, size_t cap);

/* The same note for any lines shown of a file of total_lines lines: shown
 * is an array of [first, last] ranges, in any order, overlaps allowed.
 * Writes "" when they cover 1..total_lines, "none of its 40 lines are
 * shown" when shown is empty or NULL, else "only lines ... of N are shown"
 * (cut short, never past out[cap - 1], when cap is small). */
void context_lines_note(const cJSON *shown, long total_lines, char *out, size_t cap);

#endif
