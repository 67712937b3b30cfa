/* stress_task.c - spec -> load -> report -> model suggestions. */
#include "worker/stress_task.h"

#include "common/err.h"
#include "common/stress_spec.h"
#include "common/utf8.h"
#include "worker/cancel.h"
#include "worker/prompt.h"
#include "worker/redact.h"
#include "worker/stress.h"
#include "worker/stress_suggest.h"
#include "worker/task_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of the per-endpoint table the model reads. */
#define STRESS_TABLE_MAX 8192

struct stress_run {
    struct stress_env env;
    const char *skip_reason;
    model_done_cb *cb;
    void *arg;
    struct cancel *cancel;          /* the caller's (borrowed until cb or cancelled), or NULL */
    struct stress_spec *spec;
    struct stress *load;            /* the load while it runs, else NULL */
    struct cancel ask;              /* the model question's */
    struct model_out out;
};

static void finish(struct stress_run *s)
{
    struct model_out out = s->out;
    model_done_cb *cb = s->cb;
    void *arg = s->arg;

    if (out.findings == NULL)
        out.findings = cJSON_CreateArray();
    out.tokens = llm_usage_tokens(&out.usage);
    cancel_clear(s->cancel);
    stress_spec_free(s->spec);
    free(s);
    cb(arg, &out);
}

/* cancel_fn: the caller stopped the task (its cancel is already empty). */
static void run_cancel(void *state)
{
    struct stress_run *s = state;

    stress_cancel(s->load);
    cancel_now(&s->ask);
    model_out_cleanup(&s->out);
    stress_spec_free(s->spec);
    free(s);
}

static void fail(struct stress_run *s, const char *why)
{
    s->out.failed = 1;
    snprintf(s->out.error, sizeof s->out.error, "%s", why);
    finish(s);
}

/* What a job's error says before the parser's when a limit is over this
 * worker's cap. */
#define CAP_REFUSED "over this worker's cap, lower than the gateway's that admitted the job: "

/* The gateway admitted the spec, so a limit refused here is over this
 * worker's cap, set lower than the gateway's (or lowered since): the client
 * gave that value (a default is this worker's own, stress_spec.h). */
static void fail_spec(struct stress_run *s, const struct err *e)
{
    static const char *const capped[] = {"rate", "duration_s", "concurrency", "max_requests"};
    char why[sizeof s->out.error];

    for (size_t i = 0; i < sizeof capped / sizeof capped[0]; i++)
        if (e->code == ERR_INVALID_FIELD_VALUE && strcmp(e->field, capped[i]) == 0) {
            /* Cut to fit: the parser's message names the field, its range and
             * the variable in far fewer bytes. */
            snprintf(why, sizeof why, "%s%.*s", CAP_REFUSED,
                     (int)(sizeof why - sizeof CAP_REFUSED), e->msg);
            fail(s, why);
            return;
        }
    fail(s, e->msg);
}

static double latency(const cJSON *ep, const char *p)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ep, "latency_ms"), p));
}

/* One line per endpoint: what the model needs, nothing else. A path is
 * redacted (before it is cut: a cut secret may no longer be recognised): its
 * query string may carry a key ("/items?api_key=..."), which the report,
 * stored for its owner, keeps. Owns; NULL when out of memory. */
static char *report_table(const cJSON *report)
{
    const cJSON *ep, *st;
    char *t = malloc(STRESS_TABLE_MAX);
    size_t n = 0;
    struct redact_result rp;

    if (t == NULL)
        return NULL;
    n += (size_t)snprintf(t, STRESS_TABLE_MAX, "%.0f requests in %.1f s (%.1f rps), error rate "
                          "%.3f\nendpoint | requests | error_rate | p50_ms | p95_ms | p99_ms | "
                          "statuses\n",
                          cJSON_GetNumberValue(cJSON_GetObjectItem(report, "completed")),
                          cJSON_GetNumberValue(cJSON_GetObjectItem(report, "duration_s")),
                          cJSON_GetNumberValue(cJSON_GetObjectItem(report, "throughput_rps")),
                          cJSON_GetNumberValue(cJSON_GetObjectItem(report, "error_rate")));
    cJSON_ArrayForEach(ep, cJSON_GetObjectItem(report, "endpoints")) {
        const char *raw = json_str(ep, "path") ? json_str(ep, "path") : "";
        const char *path;
        if (n + 200 >= STRESS_TABLE_MAX)
            break;
        if (redact_text(raw, strlen(raw), &rp) != 0) {
            free(t);
            return NULL;
        }
        path = rp.text;
        n += utf8_fmt(t + n, STRESS_TABLE_MAX - n, "%s %.*s | %.0f | %.3f | %.1f | %.1f | %.1f |",
                      json_str(ep, "method"), utf8_prec(path, STRESS_TABLE_PATH_MAX), path,
                      cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "requests")),
                      cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "error_rate")),
                      latency(ep, "p50"), latency(ep, "p95"), latency(ep, "p99"));
        redact_result_cleanup(&rp);
        cJSON_ArrayForEach(st, cJSON_GetObjectItem(ep, "status_counts"))
            if (n + 20 < STRESS_TABLE_MAX)
                n += (size_t)snprintf(t + n, STRESS_TABLE_MAX - n, " %s:%.0f", st->string,
                                      st->valuedouble);
        if (n + 2 < STRESS_TABLE_MAX)
            n += (size_t)snprintf(t + n, STRESS_TABLE_MAX - n, "\n");
    }
    return t;
}

static void on_answer(void *arg, struct model_answer *a)
{
    struct stress_run *s = arg;
    cJSON *sugg;
    int dropped;

    s->out.usage = a->usage;
    s->out.model_attempts = a->model_attempts;
    if (a->answer == NULL) {
        s->out.degraded = 1;
        snprintf(s->out.degraded_reason, sizeof s->out.degraded_reason, "%s",
                 a->degraded_reason[0] ? a->degraded_reason : "model unavailable");
    } else {
        sugg = cJSON_DetachItemFromObjectCaseSensitive(a->answer, "suggestions");
        /* Advice on an endpoint that was not measured goes, as a review's
         * finding outside its file does; the rest of the answer stands. */
        dropped = stress_suggest_keep_measured(sugg, cJSON_GetObjectItem(s->out.result,
                                                                          "stress"));
        if (dropped < 0) {
            cJSON_Delete(sugg);
            sugg = NULL;
            s->out.degraded = 1;
            snprintf(s->out.degraded_reason, sizeof s->out.degraded_reason, "out of memory");
        }
        cJSON_ReplaceItemInObjectCaseSensitive(s->out.result, "suggestions",
                                               sugg ? sugg : cJSON_CreateArray());
        cJSON_SetNumberValue(cJSON_GetObjectItem(s->out.result, "suggestions_dropped"),
                             dropped > 0 ? dropped : 0);
        if (json_str(a->answer, "summary") != NULL)
            s->out.summary = strdup(json_str(a->answer, "summary"));
    }
    model_answer_cleanup(a);
    finish(s);
}

static void on_load_done(void *arg, int rc, const struct err *e, cJSON *report)
{
    struct stress_run *s = arg;
    struct prompt_vars v;
    struct model_question q;
    char *table;

    s->load = NULL;
    if (rc != ERR_OK) {
        fail(s, e->msg);
        return;
    }
    s->out.result = cJSON_CreateObject();
    cJSON_AddItemToObject(s->out.result, "stress", report);
    cJSON_AddArrayToObject(s->out.result, "suggestions");
    cJSON_AddNumberToObject(s->out.result, "suggestions_dropped", 0);
    if (s->skip_reason != NULL) {
        s->out.degraded = 1;
        snprintf(s->out.degraded_reason, sizeof s->out.degraded_reason, "%s", s->skip_reason);
        finish(s);
        return;
    }
    if ((table = report_table(report)) == NULL) {
        fail(s, "out of memory");
        return;
    }
    memset(&v, 0, sizeof v);
    v.stress_report = table;
    memset(&q, 0, sizeof q);
    q.task = "stress";
    q.vars = &v;
    q.parse = stress_answer_parse;
    q.cache_ttl_s = model_cache_ttl(s->env.cfg, "stress");
    q.spent = s->env.spent;
    rc = model_ask(s->env.model, &q, on_answer, s, &s->ask);
    free(table);
    if (rc != 0) {
        s->out.degraded = 1;
        snprintf(s->out.degraded_reason, sizeof s->out.degraded_reason, "out of memory");
        finish(s);
    }
}

int stress_task_start(const struct stress_env *env, const char *spec, const char *skip_reason,
                      int defer_unless_cached, model_done_cb *cb, void *arg,
                      struct cancel *cancel)
{
    struct stress_run *s = calloc(1, sizeof *s);
    cJSON *doc;
    struct err e;
    int rc;

    if (s == NULL)
        return -1;
    s->env = *env;
    s->skip_reason = skip_reason;
    s->cb = cb;
    s->arg = arg;
    s->cancel = cancel;
    cancel_set(cancel, run_cancel, s);
    doc = cJSON_Parse(spec ? spec : "");
    if (doc != NULL)
        rc = stress_spec_parse(doc, env->cfg, &s->spec, &e);
    else
        rc = err_set(&e, ERR_INVALID_JSON, "malformed stress spec");
    cJSON_Delete(doc);
    if (rc != ERR_OK) {
        fail_spec(s, &e);
        return 0;
    }
    if (defer_unless_cached && skip_reason == NULL) {
        /* Soft-throttled: the model would be called (the suggestions are
         * never cached), so the job is parked now. The whole task runs again
         * when it is due: a load run now would hit the target twice. */
        s->out.deferred = 1;
        finish(s);
        return 0;
    }
    /* on_load_done never runs inside stress_start: s->load is set first. */
    s->load = stress_start(env->loop, env->cfg, s->spec, env->policy, on_load_done, s, &e);
    if (s->load == NULL)
        fail(s, e.msg);
    return 0;
}
