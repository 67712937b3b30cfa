/* model_ask.c - prompt, prompt cache, model, one repair, parse. */
#include "worker/model_ask.h"

#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/kv_async.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "worker/cancel.h"
#include "worker/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPAIR_NOTE_MAX 300

/* Why an answer the provider cut at max_tokens could not be used: its
 * parser's reason would send the model after a symptom ("text follows its
 * closing '}'") and it would answer as long again, cut again. */
#define CUT_NOTE "it was cut off at the output token limit (max_tokens) before the JSON " \
                 "object ended: report fewer findings, the most important first, with " \
                 "shorter messages and fixes, so that the whole object fits"

struct ask {
    const struct model_ctx *ctx;
    model_parse_fn *parse;
    long cache_ttl_s;
    int defer_unless_cached;
    model_answer_cb *cb;
    void *arg;
    struct cancel *cancel;          /* the caller's (borrowed until cb or cancelled), or NULL */
    int64_t *spent;                 /* the question's tokens (model_spent), or NULL */
    struct llm_usage *spent_usage;  /* and its usage, or NULL */
    struct prompt prompt;
    char cache_key[80];             /* "pcache:<sha256>" */
    int repaired;
    struct llm_call *call;          /* the model call out, or NULL */
    size_t call_chars;              /* its prompt's characters: system and user */
    int in_cache;                   /* the prompt cache lookup is out */
    int cancelled;                  /* stopped while in_cache: freed by on_cache */
    struct model_answer out;
};

void model_answer_cleanup(struct model_answer *a)
{
    cJSON_Delete(a->answer);
    memset(a, 0, sizeof *a);
}

long model_cache_ttl(const struct config *cfg, const char *task)
{
    if (task == NULL || strcmp(task, "review") == 0)
        return cfg->cache_ttl_review_s;
    if (strcmp(task, "debug") == 0)
        return cfg->cache_ttl_debug_s;
    if (strcmp(task, "architecture") == 0)
        return cfg->cache_ttl_architecture_s;
    return 0;
}

static void ask_free(struct ask *k)
{
    model_answer_cleanup(&k->out);
    prompt_cleanup(&k->prompt);
    free(k);
}

static void finish(struct ask *k)
{
    struct model_answer out = k->out;
    model_answer_cb *cb = k->cb;
    void *arg = k->arg;

    out.tokens = llm_usage_tokens(&out.usage);
    cancel_clear(k->cancel);
    prompt_cleanup(&k->prompt);
    free(k);
    cb(arg, &out);
}

/* cancel_fn: the caller stopped the ask (its cancel is already empty). A
 * cache lookup cannot be withdrawn: its reply, or the connection's failure,
 * still reaches on_cache, which frees the ask then. */
static void ask_cancel(void *state)
{
    struct ask *k = state;

    k->cancel = NULL;
    if (k->in_cache) {
        k->cancelled = 1;
        return;
    }
    if (k->call != NULL) {
        struct llm_usage u = {0};
        int sending = llm_cancel(k->call, &u);

        /* Earlier attempts' reported usage counts in both; the estimate
         * of the abandoned request in the tokens only. */
        if (k->spent != NULL)
            *k->spent += llm_usage_tokens(&u) +
                         (sending ? (int64_t)((k->call_chars + 3) / 4) : 0);
        if (k->spent_usage != NULL)
            llm_usage_add(k->spent_usage, &u);
    }
    ask_free(k);
}

static void degrade(struct ask *k, const char *reason)
{
    cJSON_Delete(k->out.answer);
    k->out.answer = NULL;
    k->out.degraded = 1;
    snprintf(k->out.degraded_reason, sizeof k->out.degraded_reason, "%.159s", reason);
    finish(k);
}

static int take(struct ask *k, const char *text, char *why, size_t cap)
{
    cJSON *a = NULL;

    if (k->parse(text, strlen(text), &a, why, cap) != 0)
        return -1;
    cJSON_Delete(k->out.answer);
    k->out.answer = a;
    return 0;
}

static void cache_store(struct ask *k, const char *text)
{
    char ttl[24];
    struct err e;

    if (k->cache_ttl_s <= 0)
        return;
    snprintf(ttl, sizeof ttl, "%ld", k->cache_ttl_s);
    /* Fire and forget: a lost cache write only costs a later model call. */
    kv_async_call(k->ctx->kv, 5, (const char *[]){"SET", k->cache_key, text, "EX", ttl}, NULL,
                  NULL, NULL, &e);
}

static void call_model(struct ask *k, const char *user);

static void on_model(void *arg, struct llm_result *res)
{
    struct ask *k = arg;
    char why[REPAIR_NOTE_MAX];

    k->call = NULL;
    llm_usage_add(&k->out.usage, &res->usage);
    if (k->spent != NULL)
        *k->spent += llm_usage_tokens(&res->usage);
    if (k->spent_usage != NULL)
        llm_usage_add(k->spent_usage, &res->usage);
    k->out.model_attempts += res->attempts;
    if (!res->ok) {
        char reason[200];
        snprintf(reason, sizeof reason, "model unavailable: %s", res->reason);
        free(res->text);
        degrade(k, reason);
        return;
    }
    if (take(k, res->text, why, sizeof why) == 0) {
        cache_store(k, res->text);
        free(res->text);
        finish(k);
        return;
    }
    free(res->text);
    if (res->truncated)
        snprintf(why, sizeof why, "%s", CUT_NOTE);
    if (k->repaired) {
        degrade(k, res->truncated ? "model answer cut at max_tokens after one repair attempt"
                                  : "model answer invalid after one repair attempt");
        return;
    }
    /* One repair attempt: the same prompt plus what was wrong. */
    k->repaired = 1;
    {
        size_t n = strlen(k->prompt.user) + strlen(why) + 200;
        char *user = malloc(n);
        if (user == NULL) {
            degrade(k, "out of memory");
            return;
        }
        snprintf(user, n, "%s\n\nYour previous reply could not be used (%s). Reply again with "
                 "only the JSON object described above, nothing else.", k->prompt.user, why);
        call_model(k, user);
        free(user);
    }
}

static void call_model(struct ask *k, const char *user)
{
    struct err e;

    k->call_chars = strlen(k->prompt.system) + strlen(user);
    k->call = llm_call(k->ctx->llm, k->prompt.system, user, k->prompt.max_tokens, on_model, k,
                       &e);
    if (k->call == NULL)
        degrade(k, e.msg);
}

static void on_cache(void *arg, cJSON *reply, const struct err *e)
{
    struct ask *k = arg;
    char why[REPAIR_NOTE_MAX];

    k->in_cache = 0;
    if (k->cancelled) {
        ask_free(k);
        return;
    }
    if (e->code == ERR_OK && cJSON_IsString(reply) &&
        take(k, reply->valuestring, why, sizeof why) == 0) {
        metrics_inc(MET_PROMPT_CACHE, "result=\"hit\"");
        k->out.cached = 1;
        finish(k);
        return;
    }
    metrics_inc(MET_PROMPT_CACHE, "result=\"miss\"");
    if (k->defer_unless_cached) {
        k->out.deferred = 1;
        finish(k);
        return;
    }
    call_model(k, k->prompt.user);
}

/* The cache key covers everything that shapes the answer. */
static int cache_key(struct ask *k, const char *task)
{
    const struct model_ctx *ctx = k->ctx;
    size_t n = strlen(task) + strlen(k->prompt.version) + strlen(k->prompt.system) +
               strlen(k->prompt.user) + 600;
    char *material = malloc(n), digest[65];

    if (material == NULL)
        return -1;
    snprintf(material, n, "%s\n%s\n%s\n%s\n%s\n%s", task, k->prompt.version,
             llm_provider_name(ctx->llm), llm_model_name(ctx->llm), k->prompt.system,
             k->prompt.user);
    crypto_sha256_hex(material, strlen(material), digest);
    free(material);
    snprintf(k->cache_key, sizeof k->cache_key, "pcache:%s", digest);
    return 0;
}

int model_ask(const struct model_ctx *ctx, const struct model_question *q, model_answer_cb *cb,
              void *arg, struct cancel *cancel)
{
    struct ask *k = calloc(1, sizeof *k);
    struct err e;

    if (k == NULL)
        return -1;
    k->ctx = ctx;
    k->parse = q->parse;
    k->cache_ttl_s = q->cache_ttl_s;
    k->defer_unless_cached = q->defer_unless_cached;
    k->cb = cb;
    k->arg = arg;
    k->cancel = cancel;
    k->spent = q->spent != NULL ? &q->spent->tokens : NULL;
    k->spent_usage = q->spent != NULL ? &q->spent->usage : NULL;
    cancel_set(cancel, ask_cancel, k);
    if (!llm_enabled(ctx->llm)) {
        degrade(k, "offline: no model configured");
        return 0;
    }
    if (prompt_build(ctx->prompts, q->task, q->vars, &k->prompt, &e) != 0) {
        degrade(k, e.msg);
        return 0;
    }
    if (cache_key(k, q->task) != 0) {
        degrade(k, "out of memory");
        return 0;
    }
    k->in_cache = 1;
    if (kv_async_call(ctx->kv, 2, (const char *[]){"GET", k->cache_key}, NULL, on_cache, k, &e) !=
        ERR_OK) {
        /* No cache right now: go to the model (or defer). */
        struct err none;
        err_set(&none, ERR_REDIS_UNAVAILABLE, "cache unavailable");
        on_cache(k, NULL, &none);
    }
    return 0;
}
