/* validate.h - turns a POST /review body into a checked review request.
 * Pure: no I/O, so every rule is unit-tested (tests/unit/test_validate.c).
 */
#ifndef GW_VALIDATE_H
#define GW_VALIDATE_H

#include <stddef.h>

#include "common/json.h"
#include "common/job.h"

struct err;

/* Field limits, bytes. The body as a whole is capped by CODEINSIGHT_BODY_MAX
 * before it is read. */
#define REVIEW_FILE_PATH_MAX   1024
#define REVIEW_LANGUAGE_MAX      32
#define REVIEW_REPO_ID_MAX      256
#define REVIEW_ERROR_LOG_MAX (256 * 1024)
#define REVIEW_CURSOR_LINE_MAX 10000000

struct review_request {
    cJSON *doc;                     /* owns the parsed body; the strings below borrow from it */
    enum job_type type;
    const char *file_path;
    const char *file_content;
    const char *language;           /* lowercased in place; NULL when absent */
    const char *repo_id;            /* NULL when absent */
    const char *diff;               /* NULL when absent */
    const char *error_log;          /* NULL when absent */
    int has_cursor;
    long cursor_line;               /* 1-based */
    long cursor_end_line;           /* >= cursor_line; equals it when absent */
};

/* Parses and validates body[0..len). On ERR_OK out owns a document (release
 * with review_request_cleanup); on error out holds nothing and e names the
 * code and, for field errors, the field. */
int review_parse(const char *body, size_t len, struct review_request *out, struct err *e);

/* Releases what review_parse() produced; safe on a zeroed struct. */
void review_request_cleanup(struct review_request *r);

#endif
