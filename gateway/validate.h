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
/* `diff` (a unified diff against file_content; at most UDIFF_MAX). */
#define REVIEW_DIFF_MAX (512 * 1024)

/* Debug Doctor inputs: neighbouring files and how to reproduce. */
#define DEBUG_FILES_MAX          16
#define DEBUG_FILES_TOTAL_MAX (256 * 1024)  /* content bytes of `files` together */
#define DEBUG_RUN_ARGS_MAX       16
#define DEBUG_RUN_ARG_MAX       256

/* Architecture generator inputs. */
#define ARCH_USER_REQUEST_MAX (8 * 1024)
#define ARCH_FIELD_MAX          256         /* stack, scale, db */
#define ARCH_FILE_TREE_MAX (32 * 1024)

struct review_request {
    cJSON *doc;                     /* owns the parsed body; the strings below borrow from it */
    enum job_type type;
    const char *file_path;
    const char *file_content;
    const char *language;           /* lowercased in place; NULL when absent */
    const char *repo_id;            /* NULL when absent */
    const char *diff;               /* NULL when absent; after validation the
                                     * diff's section for file_path (diff_section) */
    char *diff_section;             /* owns: see validate_diff.h */
    const char *filter;             /* review with a diff: "added" (default),
                                     * "diff_context", "file" or "nofilter"; else NULL */
    const char *error_log;          /* NULL when absent */
    int has_cursor;
    long cursor_line;               /* 1-based */
    long cursor_end_line;           /* >= cursor_line; equals it when absent */
    /* Canonical JSON for the queue (owns; NULL when absent):
     * debug: files [{path, content}], run {runner, entry, args};
     * architecture: spec {user_request, stack, scale, db, file_tree};
     * stress: spec as stress_spec_to_json() writes it. */
    char *files;
    char *run;
    char *spec;
    size_t input_bytes;             /* what the model may read: the budget estimate's base */
};

/* Parses and validates body[0..len). Per request_type:
 *   review        file_path, file_content (+ language, repo_id, diff, filter,
 *                 cursor_context); diff and filter as validate_diff.h says
 *   debug         file_path, file_content, and error_log or run (or both);
 *                 diff (validate_diff.h; no filter);
 *                 files: [{path, content}] (relative, distinct, not file_path),
 *                 run: {runner (job_runner_valid), entry?, args?: [string]}
 *   architecture  user_request (+ stack, scale, db, file_tree); no file needed
 *   stress        base_url, requests, rate, duration_s... (common/stress_spec.h);
 *                 the target must be on the operator's allow-list
 * cfg supplies the stress caps and policy the allow-list (either may be NULL:
 * stress is then refused as disabled). On ERR_OK out owns a document (release
 * with review_request_cleanup); on error out holds nothing and e names the
 * code and, for field errors, the field. */
struct config;
struct target_policy;
int review_parse(const char *body, size_t len, const struct config *cfg,
                 const struct target_policy *policy, struct review_request *out, struct err *e);

/* Releases what review_parse() produced; safe on a zeroed struct. */
void review_request_cleanup(struct review_request *r);

#endif
