/* model_step.c - context, prompt, cache, model, repair, validate. */
#include "worker/model_step.h"

#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/kv_async.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "worker/answer.h"
#include "worker/context.h"
#include "worker/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPAIR_NOTE_MAX 300

struct model_run {
    const struct model_ctx *ctx;
    struct model_in in;
    model_done_cb *cb;
    void *arg;
    struct prompt prompt;
    char cache_key[80];             /* "pcache:<sha256>" */
    int repaired;
    struct model_out out;
};

void model_out_cleanup(struct model_out *out)
{
    cJSON_Delete(out->findings);
    free(out->summary);
    cJSON_Delete(out->reviewed_ranges);
    cJSON_Delete(out->skipped_ranges);
    memset(out, 0, sizeof *out);
}

static void run_finish(struct model_run *r)
{
    struct model_out out = r->out;
    model_done_cb *cb = r->cb;
    void *arg = r->arg;

    if (out.findings == NULL)
        out.findings = cJSON_CreateArray();
    out.tokens = out.usage.input_tokens + out.usage.output_tokens +
                 out.usage.cache_read_tokens + out.usage.cache_write_tokens;
    prompt_cleanup(&r->prompt);
    free(r);
    cb(arg, &out);
}

static void degrade(struct model_run *r, const char *reason)
{
    r->out.degraded = 1;
    snprintf(r->out.degraded_reason, sizeof r->out.degraded_reason, "%.159s", reason);
    run_finish(r);
}

static long cache_ttl(const struct model_run *r)
{
    const struct config *cfg = r->ctx->cfg;

    if (strcmp(r->in.task, "debug") == 0)
        return cfg->cache_ttl_debug_s;
    if (strcmp(r->in.task, "architecture") == 0)
        return cfg->cache_ttl_architecture_s;
    return cfg->cache_ttl_review_s;
}

/* Parses and validates an answer; returns 0, or -1 with why filled. */
static int take_answer(struct model_run *r, const char *text, char *why, size_t cap)
{
    cJSON *findings = NULL;
    char *summary = NULL;
    int dropped = 0;

    if (answer_parse(text, strlen(text), &findings, &summary, &dropped, why, cap) != 0)
        return -1;
    dropped += answer_validate(findings, r->in.text, r->in.len);
    cJSON_Delete(r->out.findings);
    free(r->out.summary);
    r->out.findings = findings;
    r->out.summary = summary;
    r->out.dropped = dropped;
    return 0;
}

static void cache_store(struct model_run *r, const char *text)
{
    char ttl[24];
    struct err e;

    if (cache_ttl(r) <= 0)
        return;
    snprintf(ttl, sizeof ttl, "%ld", cache_ttl(r));
    /* Fire and forget: a lost cache write only costs a later model call. */
    kv_async_call(r->ctx->kv, 5, (const char *[]){"SET", r->cache_key, text, "EX", ttl}, NULL,
                  NULL, NULL, &e);
}

static void call_model(struct model_run *r, const char *user);

static void on_model(void *arg, struct llm_result *res)
{
    struct model_run *r = arg;
    char why[REPAIR_NOTE_MAX];

    r->out.usage.input_tokens += res->usage.input_tokens;
    r->out.usage.output_tokens += res->usage.output_tokens;
    r->out.usage.cache_read_tokens += res->usage.cache_read_tokens;
    r->out.usage.cache_write_tokens += res->usage.cache_write_tokens;
    r->out.usage.cost_usd += res->usage.cost_usd;
    r->out.model_attempts += res->attempts;
    if (!res->ok) {
        char reason[200];
        snprintf(reason, sizeof reason, "model unavailable: %s", res->reason);
        free(res->text);
        degrade(r, reason);
        return;
    }
    if (take_answer(r, res->text, why, sizeof why) == 0) {
        cache_store(r, res->text);
        free(res->text);
        run_finish(r);
        return;
    }
    free(res->text);
    if (r->repaired) {
        degrade(r, "model answer invalid after one repair attempt");
        return;
    }
    /* One repair attempt: the same prompt plus what was wrong. */
    r->repaired = 1;
    {
        size_t n = strlen(r->prompt.user) + strlen(why) + 200;
        char *user = malloc(n);
        if (user == NULL) {
            degrade(r, "out of memory");
            return;
        }
        snprintf(user, n, "%s\n\nYour previous reply could not be used (%s). Reply again with "
                 "only the JSON object described above, nothing else.", r->prompt.user, why);
        call_model(r, user);
        free(user);
    }
}

static void call_model(struct model_run *r, const char *user)
{
    struct err e;

    if (llm_call(r->ctx->llm, r->prompt.system, user, r->prompt.max_tokens, on_model, r, &e) !=
        ERR_OK)
        degrade(r, e.msg);
}

static void on_cache(void *arg, cJSON *reply, const struct err *e)
{
    struct model_run *r = arg;
    char why[REPAIR_NOTE_MAX];

    if (e->code == ERR_OK && cJSON_IsString(reply) &&
        take_answer(r, reply->valuestring, why, sizeof why) == 0) {
        metrics_inc(MET_PROMPT_CACHE, "result=\"hit\"");
        r->out.cached = 1;
        run_finish(r);
        return;
    }
    metrics_inc(MET_PROMPT_CACHE, "result=\"miss\"");
    if (r->in.defer_unless_cached) {
        r->out.deferred = 1;
        run_finish(r);
        return;
    }
    call_model(r, r->prompt.user);
}

/* "lines 1-400, 900-950 of 2000 shown" when not everything is. */
static void ranges_note(const struct context_result *c, char *out, size_t cap)
{
    const cJSON *rg;
    size_t used = 0;

    out[0] = '\0';
    if (cJSON_GetArraySize(c->skipped_ranges) == 0)
        return;
    used += (size_t)snprintf(out, cap, "only lines ");
    cJSON_ArrayForEach(rg, c->reviewed_ranges) {
        if (used >= cap)
            break;
        used += (size_t)snprintf(out + used, cap - used, "%s%d-%d", rg == c->reviewed_ranges->child ? "" : ", ",
                                 (int)cJSON_GetArrayItem(rg, 0)->valuedouble,
                                 (int)cJSON_GetArrayItem(rg, 1)->valuedouble);
    }
    if (used < cap)
        snprintf(out + used, cap - used, " of %ld are shown", c->total_lines);
}

int model_step_start(const struct model_ctx *ctx, const struct model_in *in, model_done_cb *cb,
                     void *arg)
{
    struct model_run *r = calloc(1, sizeof *r);
    struct context_input ci;
    struct context_result cr;
    struct prompt_vars v;
    struct err e;
    char note[512], digest[65];

    if (r == NULL)
        return -1;
    r->ctx = ctx;
    r->in = *in;
    r->cb = cb;
    r->arg = arg;

    memset(&ci, 0, sizeof ci);
    memset(&cr, 0, sizeof cr);
    ci.text = in->redacted;
    ci.len = in->redacted_len;
    ci.diff = in->diff;
    ci.has_cursor = in->has_cursor;
    ci.cursor_line = in->cursor_line;
    ci.cursor_end_line = in->cursor_end_line;
    ci.lint_findings = in->lint_findings;
    ci.budget_bytes = (size_t)ctx->cfg->input_max_bytes;
    if (context_build(&ci, &cr) != 0) {
        free(r);
        return -1;
    }
    /* The note reads the ranges: before they move to the outcome. */
    ranges_note(&cr, note, sizeof note);
    r->out.reviewed_ranges = cr.reviewed_ranges;
    r->out.skipped_ranges = cr.skipped_ranges;
    cr.reviewed_ranges = cr.skipped_ranges = NULL;

    if (in->skip_reason != NULL || !llm_enabled(ctx->llm)) {
        context_result_cleanup(&cr);
        r->out.degraded = 1;
        snprintf(r->out.degraded_reason, sizeof r->out.degraded_reason, "%s",
                 in->skip_reason ? in->skip_reason : "offline: no model configured");
        /* From the loop like every other outcome: a zero-delay cache miss. */
        r->in.defer_unless_cached = 0;
        run_finish(r);
        return 0;
    }

    memset(&v, 0, sizeof v);
    v.file_path = in->file_path;
    v.language = in->language;
    v.code = cr.code;
    v.lint_summary = cr.lint_summary;
    v.diff = in->diff;
    v.error_log = in->error_log;
    v.ranges_note = note;
    if (prompt_build(ctx->prompts, in->task, &v, &r->prompt, &e) != 0) {
        context_result_cleanup(&cr);
        degrade(r, e.msg);
        return 0;
    }
    context_result_cleanup(&cr);

    /* The cache key covers everything that shapes the answer. */
    {
        size_t n = strlen(in->task) + strlen(r->prompt.version) + strlen(r->prompt.system) +
                   strlen(r->prompt.user) + 600;
        char *material = malloc(n);
        struct err ke;
        if (material == NULL) {
            degrade(r, "out of memory");
            return 0;
        }
        snprintf(material, n, "%s\n%s\n%s\n%s\n%s\n%s", in->task, r->prompt.version,
                 llm_provider_name(ctx->llm), llm_model_name(ctx->llm), r->prompt.system,
                 r->prompt.user);
        crypto_sha256_hex(material, strlen(material), digest);
        free(material);
        snprintf(r->cache_key, sizeof r->cache_key, "pcache:%s", digest);
        if (kv_async_call(ctx->kv, 2, (const char *[]){"GET", r->cache_key}, NULL, on_cache, r,
                          &ke) != ERR_OK) {
            /* No cache right now: go to the model (or defer). */
            struct err none;
            err_set(&none, ERR_REDIS_UNAVAILABLE, "cache unavailable");
            on_cache(r, NULL, &none);
        }
    }
    return 0;
}
