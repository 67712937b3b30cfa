/* arch_task.c - architecture generator: spec -> model_ask -> validated design. */
#include "worker/arch_task.h"

#include "worker/cancel.h"
#include "worker/prompt.h"
#include "worker/redact.h"
#include "worker/task_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arch_run {
    model_done_cb *cb;
    void *arg;
    struct cancel *cancel;          /* the caller's (borrowed until cb or cancelled), or NULL */
    struct cancel ask;              /* the model question's */
};

/* cancel_fn: the caller stopped the task (its cancel is already empty). */
static void run_cancel(void *state)
{
    struct arch_run *r = state;

    cancel_now(&r->ask);
    free(r);
}

static void fail(model_done_cb *cb, void *arg, struct model_out *out, const char *why)
{
    out->failed = 1;
    snprintf(out->error, sizeof out->error, "needs a model: %s", why);
    if (out->findings == NULL)
        out->findings = cJSON_CreateArray();
    cb(arg, out);
}

static void on_answer(void *arg, struct model_answer *a)
{
    struct arch_run *r = arg;
    struct model_out out;
    model_done_cb *cb = r->cb;
    void *cb_arg = r->arg;

    cancel_clear(r->cancel);
    free(r);
    memset(&out, 0, sizeof out);
    out.usage = a->usage;
    out.tokens = a->tokens;
    out.cached = a->cached;
    out.model_attempts = a->model_attempts;
    if (a->deferred) {
        /* Soft-throttled and not in the prompt cache: the pipeline parks it. */
        model_answer_cleanup(a);
        out.deferred = 1;
        out.findings = cJSON_CreateArray();
        cb(cb_arg, &out);
        return;
    }
    if (a->answer == NULL) {
        char why[240];
        snprintf(why, sizeof why, "the architecture generator has no static fallback (%.160s)",
                 a->degraded_reason[0] ? a->degraded_reason : "no answer");
        model_answer_cleanup(a);
        fail(cb, cb_arg, &out, why);
        return;
    }
    out.summary = json_str(a->answer, "summary") ? strdup(json_str(a->answer, "summary")) : NULL;
    out.result = cJSON_CreateObject();
    cJSON_AddItemToObject(out.result, "architecture", a->answer);
    a->answer = NULL;
    model_answer_cleanup(a);
    out.findings = cJSON_CreateArray();
    cb(cb_arg, &out);
}

int arch_task_start(const struct model_ctx *ctx, const char *spec, const char *skip_reason,
                    int defer_unless_cached, struct model_spent *spent, model_done_cb *cb,
                    void *arg, struct cancel *cancel)
{
    struct model_out out;
    struct prompt_vars v;
    struct model_question q;
    struct arch_run *r;
    static const char *const fields[] = {"user_request", "stack", "scale", "db", "file_tree"};
    enum { ARCH_FIELDS = 5 };
    struct redact_result red[ARCH_FIELDS];
    cJSON *s;
    int rc;

    memset(&out, 0, sizeof out);
    if (skip_reason != NULL) {
        char why[240];
        snprintf(why, sizeof why, "the architecture generator has no static fallback (%.160s)",
                 skip_reason);
        fail(cb, arg, &out, why);
        return 0;
    }
    if ((s = cJSON_Parse(spec ? spec : "")) == NULL || json_str(s, "user_request") == NULL) {
        cJSON_Delete(s);
        out.failed = 1;
        snprintf(out.error, sizeof out.error, "malformed architecture request");
        out.findings = cJSON_CreateArray();
        cb(arg, &out);
        return 0;
    }
    if ((r = calloc(1, sizeof *r)) == NULL) {
        cJSON_Delete(s);
        return -1;
    }
    r->cb = cb;
    r->arg = arg;
    r->cancel = cancel;
    cancel_set(cancel, run_cancel, r);
    /* Free text may carry a pasted key or password as well as code can. */
    memset(red, 0, sizeof red);
    for (int i = 0; i < ARCH_FIELDS; i++) {
        const char *t = json_str(s, fields[i]);
        if (t != NULL && redact_text(t, strlen(t), &red[i]) != 0) {
            for (int k = 0; k < ARCH_FIELDS; k++)
                redact_result_cleanup(&red[k]);
            cJSON_Delete(s);
            cancel_clear(cancel);
            free(r);
            return -1;
        }
    }
    memset(&v, 0, sizeof v);
    v.user_request = red[0].text;
    v.stack = red[1].text;
    v.scale = red[2].text;
    v.db = red[3].text;
    v.file_tree = red[4].text;
    memset(&q, 0, sizeof q);
    q.task = "architecture";
    q.vars = &v;
    q.parse = arch_answer_parse;
    q.cache_ttl_s = model_cache_ttl(ctx->cfg, "architecture");
    q.defer_unless_cached = defer_unless_cached;
    q.spent = spent;
    rc = model_ask(ctx, &q, on_answer, r, &r->ask);
    for (int k = 0; k < ARCH_FIELDS; k++)
        redact_result_cleanup(&red[k]);
    cJSON_Delete(s);
    if (rc != 0) {
        cancel_clear(cancel);
        free(r);
    }
    return rc;
}
