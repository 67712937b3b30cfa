/* diff_filter.h - what a one-file diff selects of its new side, and which
 * findings a filter keeps (reviewdog's -filter-mode semantics).
 *
 * The gateway checks that a diff describes the submitted file
 * (diff_filter_check_text); the worker builds the scope of the diff and
 * drops findings outside the filter (diff_scope_keeps).
 *
 *     struct diff_scope s;
 *     if (diff_scope_build(file, &s) == 0) {
 *         keep = diff_scope_keeps(&s, DIFF_FILTER_ADDED, 12, 14);
 *         ...
 *         diff_scope_cleanup(&s);
 *     }
 */
#ifndef CI_DIFF_FILTER_H
#define CI_DIFF_FILTER_H

#include <stddef.h>

#include "common/json.h"
#include "common/udiff.h"

enum diff_filter {
    DIFF_FILTER_ADDED,          /* the finding's lines touch an added line */
    DIFF_FILTER_DIFF_CONTEXT,   /* ... touch a hunk's new side (added or context lines) */
    DIFF_FILTER_FILE,           /* anywhere in a file the diff touches */
    DIFF_FILTER_NOFILTER,       /* everything */
};

/* The filter when a diff is given without one. */
#define DIFF_FILTER_DEFAULT DIFF_FILTER_ADDED

/* Inclusive, 1-based new-side lines. */
struct diff_range {
    long first;
    long last;
};

struct diff_scope {
    struct diff_range *added;   /* owns: the '+' lines, merged, in order */
    size_t nadded;
    struct diff_range *hunks;   /* owns: each hunk's new side (context and
                                 * '+' lines), merged, in order; a hunk that
                                 * only removes lines has none */
    size_t nhunks;
};

/* Parses "added" | "diff_context" | "file" | "nofilter". Returns the
 * filter, or -1 when s is NULL or none of these. */
int diff_filter_parse(const char *s);

/* The filter's name as diff_filter_parse reads it; "added" for an
 * out-of-range value. Static string. */
const char *diff_filter_str(enum diff_filter f);

/* Checks that f's new side is text[0..len): every context and '+' line
 * equals text's line at its new line number (bytes before the '\n', a '\r'
 * included), a line marked "\ No newline at end of file" on the new side is
 * text's last line and text has no final '\n', and every hunk lies within
 * text; a diff that creates the file (UDIFF_NEW, or one hunk "-0,0") has it
 * whole as its new side: one hunk of lines 1..text's last. diff is the
 * input f was parsed from (borrowed), for line numbers.
 * Returns 0, or -1 with msg (cap bytes) naming the diff line and the file
 * line, never their contents. */
int diff_filter_check_text(const char *diff, const struct udiff_file *f, const char *text,
                           size_t len, char *msg, size_t cap);

/* Builds the added and hunk ranges of f. Returns 0, or -1 when out of memory
 * (s zeroed). */
int diff_scope_build(const struct udiff_file *f, struct diff_scope *s);

/* Frees the ranges; safe on a zeroed struct. */
void diff_scope_cleanup(struct diff_scope *s);

/* 1 when a finding on lines line..end_line (end_line < line reads as line)
 * passes the filter, else 0. The scope's file is the one the diff touches,
 * so DIFF_FILTER_FILE and DIFF_FILTER_NOFILTER keep every finding. */
int diff_scope_keeps(const struct diff_scope *s, enum diff_filter flt, long line, long end_line);

/* The added (added = 1) or hunk (0) ranges as a JSON array [[3,5],[9,9]]
 * (owns), or NULL when out of memory. */
cJSON *diff_scope_ranges_json(const struct diff_scope *s, int added);

#endif
