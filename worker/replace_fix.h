/* replace_fix.h - a model's fix given as the new text of a finding's lines,
 * turned into the unified diff a finding's "fix" carries.
 *
 * Asking the model for the corrected lines instead of a diff saves output
 * tokens (no headers, hunk header or context lines to write) and removes
 * the commonest way a model's fix fails to apply: a wrong hunk header or a
 * context line not copied exactly. The worker writes the diff itself, from
 * the submitted file, so it always applies.
 *
 *     const char *why;
 *     char *diff = replace_fix_diff(text, len, "src/a.c", 12, 14, repl, repl_len, &why);
 *     if (diff != NULL) { ...cJSON_AddStringToObject(f, "fix", diff)...; free(diff); }
 */
#ifndef WK_REPLACE_FIX_H
#define WK_REPLACE_FIX_H

#include <stddef.h>

/* Unchanged lines shown on each side of the replaced ones, as `diff -u`
 * (and so `git apply` without --unidiff-zero) expects. */
#define REPLACE_FIX_CONTEXT 3

/* Most lines on each side of the range that a replacement is checked not
 * to repeat (see replace_fix_diff). */
#define REPLACE_FIX_ECHO_MAX 8

/* Why no diff was made (the fixes metric's outcome). */
#define REPLACE_FIX_UNCHANGED "unchanged"           /* the new lines are the old ones */
#define REPLACE_FIX_NEIGHBOUR "repeats_neighbour"   /* see replace_fix_diff */
#define REPLACE_FIX_MISPLACED "misplaced"           /* copied numbering names other lines */
#define REPLACE_FIX_INVALID "invalid"               /* anything else */

/* Returns the diff (owns, NUL-terminated) that replaces lines first..last
 * (1-based, inclusive) of text[0..len) by repl[0..repl_len), or NULL when
 * the range is not inside the file, repl is empty or holds a NUL byte, the
 * replacement changes nothing, the diff would exceed PATCH_MAX
 * (common/patch.h), or out of memory; and when repl's first m lines repeat
 * the m lines before the range, or its last m lines the m after it, for an
 * m up to REPLACE_FIX_ECHO_MAX (indentation aside; at least one of them
 * with a letter or digit and not only closing a block, see
 * context_line_closes): applied, the file would hold those lines twice, so
 * the model copied neighbours, placed the range off or left out end_line,
 * and the fix is not what it meant. When it returns NULL and why is not NULL, *why is
 * REPLACE_FIX_UNCHANGED, REPLACE_FIX_NEIGHBOUR, REPLACE_FIX_MISPLACED or
 * REPLACE_FIX_INVALID.
 *
 * The diff is one hunk with up to REPLACE_FIX_CONTEXT lines of context,
 * headed "--- a/<path>" / "+++ b/<path>" when path is not NULL. repl is
 * read as lines: one final "\n" ends its last line rather than adding an
 * empty one, a "\r" before a "\n" (or at the very end) is dropped, and the
 * new lines take the ending of the first replaced line ("\n" or "\r\n").
 * When the range ends at a last line without a newline, so does the new
 * text. The excerpt numbers every line but empty ones and those that only
 * close a block: when the first such line of repl, its k-th (from 0),
 * starts with "<n>\t" (CONTEXT_NUMBER_SEP) for an n from
 * first + k - REPLACE_FIX_CONTEXT to last, the model copied the
 * numbering. If n is first + k, a leading "<digits>\t" is removed from
 * every line; otherwise the model's own numbers put its text on other
 * lines than the range, and NULL is returned (REPLACE_FIX_MISPLACED).
 * Other numbers are taken as the code's own text (a data file of
 * "12\t..." lines). */
char *replace_fix_diff(const char *text, size_t len, const char *path, long first, long last,
                       const char *repl, size_t repl_len, const char **why);

#endif
