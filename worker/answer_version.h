/* answer_version.h - what a worker's answers depend on beyond the request,
 * as one short digest per task: the model it calls, the prompt version it
 * loaded, how much of the code it sends, which linters and sandbox it has.
 * The gateway cannot know any of it (the keys, the prompts and these knobs
 * are the workers'), so its result-cache key covers the request only, and
 * the worker keeps its digest with each result-cache entry it writes
 * ("<job id> <answer version>") and publishes its pool's digests
 * (JOB_ANSWERS_KEY_PREFIX, common/job.h); admit.lua answers from an entry
 * only while its digest is among them (docs/admission.md, "Result cache").
 *
 *     struct answer_basis b = {.task = "review",
 *                              .prompt = "review@4.852e5d+brain@9.253215", ...};
 *     char v[ANSWER_VERSION_LEN];
 *     answer_version(&b, v);          // 16 hex digits
 */
#ifndef WK_ANSWER_VERSION_H
#define WK_ANSWER_VERSION_H

/* 16 hex digits and the NUL. */
#define ANSWER_VERSION_LEN 17

/* Everything borrowed; NULL strings count as empty. */
struct answer_basis {
    const char *task;               /* "review", "debug", "architecture", "stress" */
    const char *prompt;             /* the task's prompt version (prompt_set_version) */
    const char *provider;           /* the model client's (llm_provider_name), "offline" */
    const char *model;              /* its model name; "" offline */
    long input_max_bytes;           /* CODEINSIGHT_INPUT_MAX_BYTES */
    long debug_fix_attempts;        /* CODEINSIGHT_DEBUG_FIX_ATTEMPTS */
    const char *linters_missing;    /* lint_pool_missing's names, "" when none */
    const char *linters_not_run;    /* linters refused unsandboxed (LINT_SANDBOX=2), or "" */
    int sandbox;                    /* 1: submitted code can be run (a heavy pool's sandbox) */
};

/* Writes b's digest, 16 lower-case hex digits, into out. Two workers give
 * the same digest exactly when every member (and JOB_PIPELINE_VERSION, the
 * code's own version) is the same; the task is a member, so the digests of
 * a pool's tasks never coincide. */
void answer_version(const struct answer_basis *b, char out[ANSWER_VERSION_LEN]);

#endif
