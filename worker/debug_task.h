/* debug_task.h - Debug Doctor: parse the error log, reproduce the failure in
 * the sandbox, ask the model for the root cause and a fix, verify the fix by
 * running again in the sandbox, and send a failed verification back to the
 * model while rounds remain (CODEINSIGHT_DEBUG_FIX_ATTEMPTS).
 *
 * Submitted code only ever runs inside the sandbox (worker/sandbox.h); when
 * the sandbox cannot be created nothing runs and the result says why
 * (verification.reproduced false, verification.reason). The model sees only
 * redacted text: the file, neighbouring files and their paths, the log, the
 * diff and the run output.
 * Without a model (offline, budget exhausted, upstream down) the result is
 * degraded: the error, the frames and the root frame, the reproduction, the
 * linter findings - no fix.
 *
 * The outcome's `result` member holds what the job result adds for a debug
 * job: root_cause, explanation, fix, verification_steps, confidence,
 * verification {reproduced, verified, reason, rounds, runs[]}, failure {kind,
 * type, message} (what failed; the job's own `error` stays the job's), frames,
 * root_frame.
 */
#ifndef WK_DEBUG_TASK_H
#define WK_DEBUG_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "worker/model_step.h"

struct cancel;
struct config;
struct sandbox;

/* A step as it happens: "reproduced" {reproduced, reason?} after the
 * reproduction run, "verified" {verified, round} after each verification
 * run. data is taken. */
typedef void debug_step_cb(void *arg, const char *type, cJSON *data);

struct debug_env {
    const struct config *cfg;
    const struct model_ctx *model;
    struct sandbox *sandbox;        /* NULL: no sandbox in this process */
    debug_step_cb *on_step;         /* NULL: steps are not reported */
    void *step_arg;
    struct model_spent *spent;      /* NULL, or counters every model round adds what it
                                       spends to as it goes (model_question.spent): what
                                       a cancelled task has used (its outcome's tokens
                                       and usage say it otherwise) */
};

struct debug_in {
    const char *file_path;          /* as submitted (what runs, what the result names) */
    const char *redacted_path;      /* file_path redacted: what the model reads */
    const char *redacted_language;  /* the language, redacted, or NULL */
    const char *text;               /* the submitted file, as sent (what runs) */
    size_t len;
    const char *redacted;           /* the same, redacted (what the model sees) */
    size_t redacted_len;
    const char *diff;               /* the change under suspicion, redacted, or NULL */
    const char *error_log;          /* redacted, or NULL */
    const char *files;              /* canonical JSON [{path, content}], or NULL */
    const char *run;                /* canonical JSON {runner, entry?, args}, or NULL */
    const cJSON *lint_findings;     /* borrowed */
    const char *skip_reason;        /* non-NULL: no model call (budget), degraded */
    int defer_unless_cached;        /* soft-throttled and not yet due: a round the prompt
                                       cache does not answer calls no model; the outcome
                                       says `deferred` (no result; the caller parks the
                                       job, and the task runs again, whole, when due) */
};

/* Starts the task; every pointer in env and in is borrowed until cb or the
 * cancel. Returns 0 (cb runs exactly once, possibly before this returns,
 * unless cancelled) or -1 when out of memory (cb never runs). cancel
 * (borrowed; NULL: never cancelled) is filled while the task runs and
 * emptied just before cb; cancel_now() on it stops the task
 * (worker/cancel.h): a sandbox run is killed (sandbox_cancel) or the
 * question cancelled (model_ask), no step is reported, and cb never runs. */
int debug_task_start(const struct debug_env *env, const struct debug_in *in, model_done_cb *cb,
                     void *arg, struct cancel *cancel);

#endif
