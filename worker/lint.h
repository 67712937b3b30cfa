/* lint.h - runs the real linters for one file, on the event loop, with a cap
 * on linter processes running at once.
 *
 * Each run gets a private temporary directory holding only the file, a
 * minimal environment, a wall-clock timeout and an output cap. A missing or
 * failing linter becomes a note, never an error.
 */
#ifndef WK_LINT_H
#define WK_LINT_H

#include <stddef.h>

#include "common/json.h"

struct config;
struct err;
struct lint_pool;
struct loop;

struct lint_result {
    const char *language;       /* canonical language (static) or NULL when unknown */
    cJSON *findings;            /* array of findings, as in linters.h */
    cJSON *linters;             /* array of {tool, status, exit_code, duration_ms, findings} */
    cJSON *notes;               /* array of strings */
    int failed;                 /* 1 when the file could not even be prepared */
    char error[256];            /* why, when failed */
};

/* res is taken: the callee owns its cJSON members (free with lint_result_cleanup). */
typedef void lint_done_cb(void *arg, struct lint_result *res);

/* Returns a pool (owns; lint_pool_free) or NULL. */
struct lint_pool *lint_pool_new(struct loop *loop, const struct config *cfg, struct err *e);

/* Kills linters still running and frees; their callbacks do not run. Accepts NULL. */
void lint_pool_free(struct lint_pool *pool);

/* Starts linting file_path (relative, validated) with content[0..len).
 * language may be NULL (guessed from the extension). Returns a handle
 * (borrowed, valid until cb) or NULL with e set; cb always runs from the loop,
 * never inside this call. */
struct lint_task *lint_start(struct lint_pool *pool, const char *file_path, const char *content,
                             size_t len, const char *language, lint_done_cb *cb, void *arg,
                             struct err *e);

/* Frees the members of a result; safe on a zeroed struct. */
void lint_result_cleanup(struct lint_result *res);

#endif
