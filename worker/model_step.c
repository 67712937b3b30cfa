/* model_step.c - context, model_ask, validate. */
#include "worker/model_step.h"

#include "common/config.h"
#include "worker/answer.h"
#include "worker/cancel.h"
#include "worker/context.h"
#include "worker/prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct model_run {
    model_done_cb *cb;
    void *arg;
    struct cancel *cancel;          /* the caller's (borrowed until cb or cancelled), or NULL */
    struct cancel ask;              /* the model question's */
    struct answer_file file;        /* borrowed: for validating findings and fixes (its
                                       shown ranges are out.reviewed_ranges) */
    struct model_out out;
};

void model_out_cleanup(struct model_out *out)
{
    cJSON_Delete(out->findings);
    free(out->summary);
    cJSON_Delete(out->reviewed_ranges);
    cJSON_Delete(out->skipped_ranges);
    cJSON_Delete(out->result);
    memset(out, 0, sizeof *out);
}

static void run_finish(struct model_run *r)
{
    struct model_out out = r->out;
    model_done_cb *cb = r->cb;
    void *arg = r->arg;

    if (out.findings == NULL)
        out.findings = cJSON_CreateArray();
    out.tokens = llm_usage_tokens(&out.usage);
    cancel_clear(r->cancel);
    free(r);
    cb(arg, &out);
}

/* cancel_fn: the caller stopped the step (its cancel is already empty). */
static void run_cancel(void *state)
{
    struct model_run *r = state;

    cancel_now(&r->ask);
    model_out_cleanup(&r->out);
    free(r);
}

/* The review answer as one object: {findings, summary, dropped}. */
static int review_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap)
{
    cJSON *findings = NULL, *o;
    char *summary = NULL;
    int dropped = 0;

    if (answer_parse(text, len, &findings, &summary, &dropped, why, cap) != 0)
        return -1;
    o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToObject(o, "findings", findings)) {
        cJSON_Delete(o);
        cJSON_Delete(findings);
        free(summary);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    cJSON_AddStringToObject(o, "summary", summary);
    cJSON_AddNumberToObject(o, "dropped", dropped);
    free(summary);
    *out = o;
    return 0;
}

static void on_answer(void *arg, struct model_answer *a)
{
    struct model_run *r = arg;
    cJSON *findings;
    const char *summary;

    r->out.usage = a->usage;
    r->out.cached = a->cached;
    r->out.deferred = a->deferred;
    r->out.degraded = a->degraded;
    r->out.model_attempts = a->model_attempts;
    memcpy(r->out.degraded_reason, a->degraded_reason, sizeof r->out.degraded_reason);
    if (a->answer != NULL) {
        r->out.answered = 1;
        findings = cJSON_DetachItemFromObjectCaseSensitive(a->answer, "findings");
        summary = json_str(a->answer, "summary");
        r->out.summary = summary ? strdup(summary) : NULL;
        r->out.dropped = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(a->answer, "dropped"));
        r->out.dropped += answer_validate(findings, &r->file);
        r->out.findings = findings;
    }
    model_answer_cleanup(a);
    run_finish(r);
}

int model_step_start(const struct model_ctx *ctx, const struct model_in *in, model_done_cb *cb,
                     void *arg, struct cancel *cancel)
{
    struct model_run *r = calloc(1, sizeof *r);
    struct context_input ci;
    struct context_result cr;
    struct prompt_vars v;
    struct model_question q;
    char note[512];
    int rc;

    if (r == NULL)
        return -1;
    r->cb = cb;
    r->arg = arg;
    r->cancel = cancel;
    cancel_set(cancel, run_cancel, r);
    r->file = (struct answer_file){in->file_path, in->text, in->len, in->redacted,
                                   in->redacted_len, NULL};

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
        cancel_clear(cancel);
        free(r);
        return -1;
    }
    /* The note reads the ranges: before they move to the outcome. */
    context_ranges_note(&cr, note, sizeof note);
    r->out.reviewed_ranges = cr.reviewed_ranges;
    r->out.skipped_ranges = cr.skipped_ranges;
    cr.reviewed_ranges = cr.skipped_ranges = NULL;
    /* The model's findings must be about lines it was shown. */
    r->file.shown = r->out.reviewed_ranges;

    if (in->skip_reason != NULL) {
        context_result_cleanup(&cr);
        r->out.degraded = 1;
        snprintf(r->out.degraded_reason, sizeof r->out.degraded_reason, "%s", in->skip_reason);
        run_finish(r);
        return 0;
    }

    memset(&v, 0, sizeof v);
    v.file_path = in->redacted_path;
    v.language = in->redacted_language;
    v.code = cr.code;
    v.lint_summary = cr.lint_summary;
    v.diff = in->diff;
    v.error_log = in->error_log;
    v.ranges_note = note;
    memset(&q, 0, sizeof q);
    q.task = in->task;
    q.vars = &v;
    q.parse = review_parse;
    q.cache_ttl_s = model_cache_ttl(ctx->cfg, in->task);
    q.defer_unless_cached = in->defer_unless_cached;
    q.spent = in->spent;
    rc = model_ask(ctx, &q, on_answer, r, &r->ask);
    context_result_cleanup(&cr);
    if (rc != 0) {
        cancel_clear(cancel);
        model_out_cleanup(&r->out);
        free(r);
        return -1;
    }
    return 0;
}
