/* validate_diff.h - POST /review's `diff` and `filter`: the diff must be a
 * well-formed unified diff whose section for the submitted file has that
 * file's text as its new side. Pure: no I/O (tests/unit/test_validate_diff.c).
 */
#ifndef GW_VALIDATE_DIFF_H
#define GW_VALIDATE_DIFF_H

#include "gateway/validate.h"

struct err;

/* Largest `filter` value, bytes ("diff_context"). */
#define REVIEW_FILTER_MAX 32

/* Checks r->diff against r->file_path and r->file_content (both set), and
 * filter (the request's `filter`, NULL when absent), for a review or debug
 * request. On ERR_OK:
 *   - r->diff_section (owns) holds the diff's section for the file and
 *     r->diff points at it (NULL both when the request has no diff);
 *   - r->filter is the filter's name for a review with a diff ("added" when
 *     none was given), else NULL.
 * Errors: `filter` without `diff`, unknown, or on a debug request:
 * invalid_field_value (field "filter"); a diff that does not parse, is
 * binary or changes no line: invalid_diff (field "diff", the message names
 * the diff line); one whose section for the file is missing, deletes the
 * file or whose new side is not file_content: diff_mismatch (field "diff").
 *
 * The section: the only one of a one-file diff (whatever its names), else
 * the one whose new name (a/ b/ stripped) is file_path. */
int review_diff_check(struct review_request *r, const char *filter, struct err *e);

#endif
