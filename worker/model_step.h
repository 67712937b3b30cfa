/* model_step.h - the model part of a review: context -> model_ask (prompt,
 * prompt cache, model, one repair) -> findings validated against the file.
 * Runs on the loop; the outcome always arrives, degraded with a reason when
 * the model could not answer, so no job is ever left running.
 */
#ifndef WK_MODEL_STEP_H
#define WK_MODEL_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/llm.h"

#include "worker/model_ask.h"

struct cancel;

struct model_in {
    const char *task;               /* "review" (a task whose answer has findings) */
    const char *file_path;          /* as submitted: what the findings and fixes name */
    const char *redacted_path;      /* file_path redacted: what the model reads (or NULL) */
    const char *redacted_language;  /* the language, redacted (or NULL): a client's own,
                                       unknown to us, is sent as given */
    const char *text;               /* the submitted file (for validating fixes) */
    size_t len;
    const char *redacted;           /* what the model may see */
    size_t redacted_len;
    const char *diff;               /* redacted, or NULL */
    const char *error_log;          /* redacted, or NULL */
    int has_cursor;
    long cursor_line, cursor_end_line;
    const cJSON *lint_findings;     /* borrowed */
    const char *skip_reason;        /* non-NULL: no model call, degraded for this reason */
    int defer_unless_cached;        /* soft-throttled and not yet due */
    struct model_spent *spent;      /* NULL, or what the model call spends is added to it
                                       as it goes (model_question.spent) */
};

struct model_out {
    cJSON *findings;                /* owns: validated model findings (maybe empty) */
    char *summary;                  /* owns: the model's summary, or NULL */
    struct llm_usage usage;
    int64_t tokens;                 /* charged: every token kind together */
    int cached;                     /* answered by the prompt cache */
    int deferred;                   /* cache miss while defer_unless_cached: call later */
    int degraded;
    char degraded_reason[160];
    int model_attempts;
    int answered;                   /* the model, or the prompt cache, gave an answer */
    int dropped;                    /* model findings dropped by validation */
    cJSON *reviewed_ranges;         /* owns */
    cJSON *skipped_ranges;          /* owns */
    cJSON *result;                  /* owns: members a heavy task adds to the job result */
    int failed;                     /* the job fails with `error` (e.g. "needs a model") */
    char error[256];
};

/* out is taken: free with model_out_cleanup. */
typedef void model_done_cb(void *arg, struct model_out *out);

/* Starts the step; in is copied where needed (borrowed pointers must stay
 * valid until cb or the cancel). Returns 0 (cb runs once, from the loop,
 * unless cancelled) or -1 when out of memory (cb never runs). cb may run
 * before this returns (no model to call): the caller must not touch its
 * state after calling.
 *
 * cancel (borrowed, worker/cancel.h; NULL: never cancelled) is filled while
 * the step runs and emptied just before cb; cancel_now() on it stops the
 * step, its model question included (model_ask), frees what it holds, and
 * cb never runs. The heavy tasks (debug, architecture, stress) take one the
 * same way. */
int model_step_start(const struct model_ctx *ctx, const struct model_in *in, model_done_cb *cb,
                     void *arg, struct cancel *cancel);

void model_out_cleanup(struct model_out *out);

#endif
