/* model_ask.h - one question to the model, for any task: prompt -> prompt
 * cache -> model (with one repair attempt) -> parse. Runs on the loop; the
 * outcome always arrives, degraded with a reason when the model could not
 * answer (offline, upstream down, invalid answer twice), so no job waits
 * forever; only a caller that cancels the question (a worker shutting down)
 * goes without it.
 *
 * The prompt cache key covers the task, the prompt's version, the provider,
 * the model and the full prompt text, so a cached answer is only reused for
 * exactly the same question.
 */
#ifndef WK_MODEL_ASK_H
#define WK_MODEL_ASK_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/llm.h"

struct cancel;
struct config;
struct kv_async;
struct prompt_set;
struct prompt_vars;

/* Shared by every job of a worker. */
struct model_ctx {
    const struct config *cfg;
    struct llm *llm;                /* borrowed */
    const struct prompt_set *prompts;
    struct kv_async *kv;            /* for the prompt cache */
};

/* Parses and validates a model answer text[0..len). Returns 0 with *out
 * (owns) the normalised answer, or -1 with why (cap bytes) saying what is
 * wrong (sent back to the model once) and nothing allocated. */
typedef int model_parse_fn(const char *text, size_t len, cJSON **out, char *why, size_t cap);

/* What a job's model calls have spent so far, added to as they go: the
 * tokens it is charged and the usage behind them, so that a job stopped
 * before its model step finished (cancelled) reports the cost it is
 * charged for. */
struct model_spent {
    int64_t tokens;                 /* each answered call's tokens, and for a call cancelled
                                       while out, its prompt's characters / 4 */
    struct llm_usage usage;         /* the answered calls' usage, every kind and the cost
                                       they reported (the estimate of a cancelled call is
                                       in tokens only: no usage was reported for it) */
};

struct model_question {
    const char *task;               /* prompt task: "review", "debug", ... */
    const struct prompt_vars *vars; /* borrowed for the call only */
    model_parse_fn *parse;
    long cache_ttl_s;               /* prompt cache lifetime; 0: not cached */
    int defer_unless_cached;        /* a cache miss answers `deferred` instead of calling */
    struct model_spent *spent;      /* NULL, or counters (borrowed until the answer or the
                                       cancel) the ask adds what it spends to as it goes:
                                       each model call's tokens and usage once it has
                                       answered (a repaired answer's first call too), and
                                       for a call cancelled, the usage its earlier attempts
                                       reported (a malformed reply before a retry) and,
                                       when its request was out, its prompt's characters /
                                       4 in tokens only, since the vendor may bill the
                                       input it read but reports no usage for a call its
                                       client abandoned */
};

struct model_answer {
    cJSON *answer;                  /* owns: parse's output, NULL when degraded or deferred */
    struct llm_usage usage;
    int64_t tokens;                 /* every token kind together (what is charged) */
    int cached;                     /* answered by the prompt cache */
    int deferred;
    int degraded;
    char degraded_reason[160];
    int model_attempts;
};

/* a is taken: free with model_answer_cleanup. */
typedef void model_answer_cb(void *arg, struct model_answer *a);

/* Asks; q is used during the call only. Returns 0 (cb runs exactly once,
 * unless cancelled) or -1 when out of memory (cb never runs, cancel is left
 * as it was). cb may run before this returns (offline, cache unreachable and
 * deferring): the caller must not touch its state after calling. Without a
 * model the answer is degraded "offline: no model configured".
 *
 * cancel (borrowed, worker/cancel.h; NULL: never cancelled) is filled while
 * the ask runs and emptied just before cb. cancel_now() on it stops the ask:
 * cb never runs, the model call out is aborted (llm_cancel), and the ask is
 * freed at once, or, while the prompt cache lookup is out, when its reply or
 * the connection's failure arrives (kv_async_free fails it). A call aborted
 * so is counted in q->spent, if given, before cancel_now() returns. */
int model_ask(const struct model_ctx *ctx, const struct model_question *q, model_answer_cb *cb,
              void *arg, struct cancel *cancel);

void model_answer_cleanup(struct model_answer *a);

/* Prompt and result cache lifetime of a task's answers, seconds (0: never
 * cached; a stress test measures a live system, so its answers are not). */
long model_cache_ttl(const struct config *cfg, const char *task);

#endif
