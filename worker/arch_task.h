/* arch_task.h - the architecture generator: from what the user wants to
 * build (user_request, stack, scale, db, an optional file tree) to a
 * validated design - summary, ASCII diagram, modules and responsibilities,
 * data flow, security, scaling and cost notes (worker/task_answer.h checks
 * every section is there).
 *
 * There is no static fallback: without a model (offline, budget exhausted,
 * upstream down) the job fails with a clear "needs a model" error instead of
 * a made-up document. Answers are cached (CODEINSIGHT_CACHE_TTL_ARCHITECTURE).
 *
 * The outcome's `result` member holds {"architecture": {...sections}}.
 */
#ifndef WK_ARCH_TASK_H
#define WK_ARCH_TASK_H

#include "worker/model_step.h"

struct cancel;

/* spec: the canonical JSON the gateway queued ({user_request, stack?,
 * scale?, db?, file_tree?}), borrowed for the call. skip_reason: non-NULL
 * when admission already ruled out a model call (budget).
 * defer_unless_cached: the job is soft-throttled and not yet due: a prompt
 * cache miss calls no model and the outcome says `deferred` (no result; the
 * caller parks the job). Returns 0 (cb runs exactly once, possibly before
 * this returns, unless cancelled) or -1 when out of memory (cb never
 * runs). cancel (borrowed; NULL: never cancelled) is filled while the model
 * is asked and emptied just before cb; cancel_now() on it stops the task
 * (worker/cancel.h): the question is cancelled (model_ask) and cb never
 * runs. spent: NULL, or what the model
 * call spends is added to it as it goes (model_question.spent). */
int arch_task_start(const struct model_ctx *ctx, const char *spec, const char *skip_reason,
                    int defer_unless_cached, struct model_spent *spent, model_done_cb *cb,
                    void *arg, struct cancel *cancel);

#endif
