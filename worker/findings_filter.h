/* findings_filter.h - a review with a diff keeps only the findings its
 * filter selects (reviewdog's -filter-mode: added, diff_context, file,
 * nofilter; common/diff_filter.h) and says what it dropped.
 */
#ifndef WK_FINDINGS_FILTER_H
#define WK_FINDINGS_FILTER_H

#include "common/json.h"

/* Filters findings (an array of objects with "line" and optional
 * "end_line"; modified in place) by the one-file diff (borrowed, as the
 * gateway queued it) and filter name, and adds to members (an object):
 *   "filter": the filter's name,
 *   "filtered_out": how many findings were dropped,
 *   "changed_ranges": [[first,last], ...] the new-side lines the diff adds,
 *   "diff_ranges": [[first,last], ...] its hunks' new sides (added and
 *                  context lines).
 * A finding without an integer line is kept by "file" and "nofilter" only.
 * Returns 0, or -1 when the diff does not parse or the filter is unknown
 * (nothing changed) or memory runs out (members may be partly filled). */
int findings_filter_apply(const char *diff, const char *filter, cJSON *findings,
                          cJSON *members);

#endif
