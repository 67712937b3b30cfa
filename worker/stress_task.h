/* stress_task.h - the stress-test simulator as a job: re-read the queued
 * spec, run the bounded load (worker/stress.h) against an allow-listed
 * target, then ask the model for concrete optimisations (caching, indexes,
 * pagination...) from a compact per-endpoint table.
 *
 * A target the policy refuses (not listed, a private address not listed, a
 * redirect to either) fails the job with that clear error and nothing more
 * is sent. Without a model the measurements are the result, degraded. The
 * model's answer is never cached: it describes a live system.
 *
 * The outcome's `result` member holds {"stress": report, "suggestions": [...],
 * "suggestions_dropped": n}: suggestions naming an endpoint the run did not
 * measure are dropped and counted (worker/stress_suggest.h).
 */
#ifndef WK_STRESS_TASK_H
#define WK_STRESS_TASK_H

#include "worker/model_step.h"

struct cancel;
struct config;
struct loop;
struct target_policy;

struct stress_env {
    struct loop *loop;
    const struct config *cfg;
    const struct model_ctx *model;
    const struct target_policy *policy;
    struct model_spent *spent;      /* NULL, or what the model call spends is added to it
                                       as it goes (model_question.spent) */
};

/* spec: the canonical JSON the gateway queued, borrowed for the call.
 * skip_reason: non-NULL when no model call may be made (budget).
 * defer_unless_cached: the job is soft-throttled and not yet due; the
 * suggestions are never cached, so the outcome says `deferred` at once,
 * before any request is sent (no result; the caller parks the job and the
 * load runs once, when it is due). Returns 0 (cb runs exactly once,
 * possibly before this returns, unless cancelled) or -1 when out of memory
 * (cb never runs). env is borrowed until cb or the cancel. cancel
 * (borrowed; NULL: never cancelled) is filled while the task runs and
 * emptied just before cb; cancel_now() on it stops the task
 * (worker/cancel.h): the load's requests are aborted (stress_cancel) or the
 * question cancelled (model_ask), and cb never runs. */
int stress_task_start(const struct stress_env *env, const char *spec, const char *skip_reason,
                      int defer_unless_cached, model_done_cb *cb, void *arg,
                      struct cancel *cancel);

#endif
