/* patch.h - applies a unified diff to one file's text, strictly.
 *
 * Used to keep a model's `fix` only when it applies cleanly to the
 * submitted file: every hunk's context and removed lines must match exactly
 * at the stated position (no fuzz, no offset), hunks in order and not
 * overlapping. "---"/"+++" headers are optional; "\ No newline at end of
 * file" is understood.
 *
 * Details (patch.c has the full list): lines compare byte-exactly with
 * their "\n" or "\r\n"; a hunk's "+c" must equal its "-a" shifted by the
 * hunks before it; before the first hunk only one "diff ..." line, one
 * "index ..." line and a "---"/"+++" pair are allowed (no mode, rename or
 * binary lines); nothing may follow the last hunk. An empty diff, one
 * holding a NUL byte, one longer than PATCH_MAX, and one common/udiff.h
 * does not read as one file's diff are rejected.
 *
 *     char *fixed; size_t n;
 *     if (patch_apply(file, len, fix, fix_len, &fixed, &n) == 0) { ...; free(fixed); }
 */
#ifndef CI_PATCH_H
#define CI_PATCH_H

#include <stddef.h>

/* Largest diff accepted, bytes. */
#define PATCH_MAX (256 * 1024)

/* Applies diff to text. Returns 0 and the patched text in *out (owns,
 * NUL-terminated, length in *out_len), or -1 when the diff is malformed or
 * does not apply (nothing allocated). out may be NULL to only check. */
int patch_apply(const char *text, size_t len, const char *diff, size_t diff_len, char **out,
                size_t *out_len);

/* Checks that diff applies to text, as patch_apply, and gives the old
 * lines it changes: *first..*last (1-based) span every removed line and
 * the lines on both sides of every added one (an addition before line 1
 * counts as line 1). Returns 0 (first = last = 0 when the diff changes
 * nothing), or -1 when it does not apply. */
int patch_span(const char *text, size_t len, const char *diff, size_t diff_len, long *first,
               long *last);

/* How diff's "+++ " header (the first "+++ " in diff, when it starts a
 * line; its name ends at a tab or the line's end) names path: 2 exactly, 1
 * as "b/" + path, 0 not at all; -1 when diff has no such header (a diff
 * without one applies to the file it was made against). Both borrowed,
 * NUL-terminated. To pick a diff's file, prefer an exact match over a "b/"
 * one. */
int patch_names_path(const char *diff, const char *path);

#endif
