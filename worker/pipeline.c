/* pipeline.c - a job's steps on the event loop. */
#include "worker/pipeline.h"

#include "common/clock.h"
#include "common/budget.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db_async.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv_async.h"
#include "common/llm.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "worker/answer.h"
#include "worker/arch_task.h"
#include "worker/cancel.h"
#include "worker/debug_task.h"
#include "worker/job_result.h"
#include "worker/stress_task.h"
#include "worker/lint.h"
#include "worker/model_step.h"
#include "worker/mongo_sink.h"
#include "worker/progress.h"
#include "worker/redact.h"
#include "worker/linters.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_FIRST_MS 200
/* A document PostgreSQL rejects is retried this often before the next,
 * smaller form replaces it (it would fail the same way forever). */
#define PERSIST_REJECTS_MAX 3
/* Refusals of the minimal form before the job is given up without it: more,
 * the backoff still growing (to CODEINSIGHT_RETRY_MAX_MS: some two minutes
 * by default), as giving up leaves PostgreSQL no row; a refusal that passes
 * (a failover's read-only window) is ridden out. */
#define PERSIST_MINIMAL_REJECTS_MAX 8

/* What do_persist stores, in the order PostgreSQL's refusals walk them. */
enum persist_form {
    PERSIST_FULL,       /* the result as built */
    PERSIST_FAILED,     /* the job failed, "the result could not be stored":
                           no findings, task members or files */
    PERSIST_MINIMAL,    /* and no text a client, a linter or a run wrote:
                           no notes, linters, degraded reason, diff members,
                           file_path, repo_id or request_id; a rejected
                           job's first */
    PERSIST_NONE,       /* nothing: the hot copy (the minimal form) is
                           published and the entry acknowledged */
};

enum stage { ST_START, ST_LINT, ST_MODEL, ST_DEFER, ST_PERSIST, ST_PUBLISH };

struct pipeline_job {
    struct worker *w;
    struct pipeline_job *prev, *next;
    enum stage stage;
    int busy;                       /* a Redis/PostgreSQL callback is outstanding */
    char entry_id[64];
    char job_id[CRYPTO_UUID_LEN];   /* "" when the entry had none */
    char key[JOB_KEY_MAX];
    cJSON *entry;                   /* object: field -> string, from the stream entry */
    const char *language;           /* canonical, static, or NULL */
    long attempts;
    int64_t began_ms;               /* monotonic */
    char started_at[CLOCK_RFC3339_LEN];
    char finished_at[CLOCK_RFC3339_LEN];
    struct lint_result lint;        /* owned once linting finished */
    struct lint_task *lint_task;    /* while linting */
    int failed;
    char error[256];
    int persist_rejects;            /* refusals of the current form */
    enum persist_form persist_form;
    struct job_documents docs;      /* the result and PostgreSQL document, once built */
    struct loop_timer *retry;
    unsigned retry_ms;
    struct budget_charge charge;    /* reconciled once, in job_finish.lua */
    char budget_key[BUDGET_KEY_MAX];
    int redacted;                   /* the redacted fields below are ready */
    struct redact_result red_file, red_diff, red_log;
    struct redact_result red_path, red_lang;    /* file_path, language: what the model reads */
    struct cancel task;             /* the model step or heavy task while it runs */
    struct model_spent task_spent;  /* what its task's model calls have spent so far
                                       (model_question.spent): charged, and reported as
                                       its usage and cost, if it is cancelled */
    struct model_out model;         /* owned once the model step finished */
    int have_model;
    int dead;                       /* given up: dead-lettered when published */
    int cancelled;                  /* its owner cancelled it: ends as such */
    int rejected;                   /* its entry was unusable: it never started */
    int released;                   /* its delivery given back at shutdown: it stops here */
};

/* What a job's view needs of its entry (lib/job_read.lua copies them into
 * the hash when the job starts); a rejected job never started, so its
 * finish writes them, its owner first: without one, nobody may read it.
 * Its created_at is its entry's, else its admission's (reject). */
static const char *const rejected_view_fields[] = {"user_id", "type", "created_at",
                                                   "file_path", "request_id"};
#define REJECTED_VIEW_FIELDS (sizeof rejected_view_fields / sizeof rejected_view_fields[0])

static void step(struct pipeline_job *j);

/* When the job was admitted, from its entry id (Redis' clock then), into
 * buf; NULL when the id says none. */
static const char *admitted_at(const struct pipeline_job *j, char buf[CLOCK_RFC3339_LEN])
{
    char *end;
    long long ms = strtoll(j->entry_id, &end, 10);

    if (end == j->entry_id || *end != '-' || ms <= 0)
        return NULL;
    return clock_rfc3339((int64_t)ms, buf);
}

/* Its owner cancelled it: it reports no findings, an error, and status
 * cancelled (job_status). */
static void mark_cancelled(struct pipeline_job *j)
{
    j->cancelled = 1;
    j->failed = 1;
    snprintf(j->error, sizeof j->error, "%s", JOB_CANCELLED_ERROR);
}

/* The status the job ends with. */
static const char *job_status(const struct pipeline_job *j)
{
    return j->cancelled ? "cancelled" : j->failed ? "failed" : "done";
}

static const char *field(const struct pipeline_job *j, const char *name)
{
    return json_str(j->entry, name);
}

static int flag(const struct pipeline_job *j, const char *name)
{
    const char *v = field(j, name);
    return v != NULL && strcmp(v, "1") == 0;
}

/* Starts a log line naming the job: job_id, request_id, entry_id, pool. */
static void job_log_begin(struct log_line *l, const struct pipeline_job *j,
                          enum log_level lvl, const char *event)
{
    log_begin(l, lvl, event);
    log_str(l, "job_id", j->job_id[0] ? j->job_id : NULL);
    log_str(l, "request_id", field(j, "request_id"));
    log_str(l, "entry_id", j->entry_id);
    log_str(l, "pool", j->w->pool);
}

static void job_log(const struct pipeline_job *j, enum log_level lvl, const char *event,
                    const struct err *e)
{
    struct log_line l;

    job_log_begin(&l, j, lvl, event);
    if (e != NULL)
        log_errfields(&l, e);
    if (strcmp(event, "job_done") == 0) {
        log_str(&l, "status", job_status(j));
        /* What the job reports: none when it failed or was cancelled. */
        log_int(&l, "findings", cJSON_GetArraySize(j->docs.findings));
        log_int(&l, "attempts", j->attempts);
        log_int(&l, "duration_ms", clock_mono_ms() - j->began_ms);
    }
    log_end(&l);
}

/* Counts a job leaving the worker (codeinsight_jobs_total) and, unless it
 * was only parked, its duration. */
static void job_count(const struct pipeline_job *j, const char *outcome)
{
    const char *type = field(j, "type");
    char labels[96];

    if (type == NULL || job_type_parse(type) < 0)
        type = "other";     /* a malformed entry must not mint series */
    if (metrics_labels(labels, sizeof labels, "type", type, "outcome", outcome, NULL) == 0)
        metrics_inc(MET_JOBS, labels);
    if (strcmp(outcome, "deferred") != 0 &&
        metrics_labels(labels, sizeof labels, "type", type, NULL) == 0)
        metrics_observe(MET_JOB_DURATION, labels,
                        (double)(clock_mono_ms() - j->began_ms) / 1000.0);
    if (j->dead)
        metrics_inc(MET_DEAD_LETTERED, "");
}

static void job_free(struct pipeline_job *j)
{
    struct worker *w = j->w;

    /* A task still running (the job is abandoned) must not call back. */
    cancel_now(&j->task);
    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        w->jobs = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    loop_timer_free(j->retry);
    lint_result_cleanup(&j->lint);
    redact_result_cleanup(&j->red_file);
    redact_result_cleanup(&j->red_diff);
    redact_result_cleanup(&j->red_log);
    redact_result_cleanup(&j->red_path);
    redact_result_cleanup(&j->red_lang);
    model_out_cleanup(&j->model);
    job_documents_cleanup(&j->docs);
    cJSON_Delete(j->entry);
    free(j);
}

static void job_release(struct pipeline_job *j, int ok)
{
    struct worker *w = j->w;

    job_free(j);
    worker_job_released(w, ok);
}

static void on_retry(void *arg)
{
    step(arg);
}

/* Retries the current step later: capped exponential backoff with jitter. */
static void retry_later(struct pipeline_job *j, const struct err *e)
{
    unsigned half, delay, r;
    unsigned cap = (unsigned)j->w->cfg->retry_max_ms;

    if (j->w->stopping && clock_mono_ms() >= j->w->stop_deadline_ms) {
        job_log(j, LOG_WARN, "job_abandoned", e);
        job_release(j, 0);
        return;
    }
    j->retry_ms = j->retry_ms == 0 ? RETRY_FIRST_MS : j->retry_ms * 2;
    if (j->retry_ms > cap)
        j->retry_ms = cap;
    half = j->retry_ms / 2;
    crypto_random(&r, sizeof r);
    delay = half + (half ? r % half : 0);
    {
        struct log_line l;
        log_begin(&l, LOG_WARN, "job_step_retry");
        log_str(&l, "job_id", j->job_id);
        log_str(&l, "request_id", field(j, "request_id"));
        log_int(&l, "stage", j->stage);
        log_int(&l, "delay_ms", delay);
        log_errfields(&l, e);
        log_end(&l);
    }
    loop_timer_start(j->retry, delay, 0);
}

/* ---- start: status running, attempt counted ---- */

static void on_started(void *arg, cJSON *reply, const struct err *e)
{
    struct pipeline_job *j = arg;

    j->busy = 0;
    if (e->code != ERR_OK) {
        retry_later(j, e);
        return;
    }
    j->attempts = cJSON_IsNumber(reply) ? (long)reply->valuedouble : 1;
    j->retry_ms = 0;
    if (j->attempts < 0) {
        /* Its owner cancelled it while no worker was running it. */
        j->attempts = -j->attempts - 1;
        mark_cancelled(j);
        job_log(j, LOG_INFO, "job_cancelled", NULL);
        j->stage = ST_PERSIST;
        step(j);
        return;
    }
    if (j->attempts == 0) {
        /* Another worker took the entry over and finished the job. */
        job_log(j, LOG_INFO, "job_already_finished", NULL);
        job_release(j, 1);
        return;
    }
    if (j->attempts > j->w->cfg->max_attempts) {
        /* Every earlier delivery died with its worker: stop trying. */
        j->failed = 1;
        j->dead = 1;
        snprintf(j->error, sizeof j->error, "gave up after %ld deliveries (the worker "
                 "processing it stopped each time)", j->attempts - 1);
        job_log(j, LOG_ERROR, "job_dead_lettered", NULL);
        j->stage = ST_PERSIST;
        step(j);
        return;
    }
    job_log(j, LOG_INFO, "job_started", NULL);
    /* Only a submitted file has anything to lint. */
    j->stage = field(j, "file_content") != NULL ? ST_LINT : ST_MODEL;
    step(j);
}

static void do_start(struct pipeline_job *j)
{
    struct worker *w = j->w;
    char ttl[24];
    struct err e;
    const char *argv[16];
    int n = 0;

    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);
    argv[n++] = j->key;
    argv[n++] = w->stream;
    argv[n++] = ttl;
    argv[n++] = j->entry_id;
    argv[n++] = w->group;
    argv[n++] = "started_at";
    argv[n++] = j->started_at;
    argv[n++] = "pool";
    argv[n++] = w->pool;
    argv[n++] = "worker";
    argv[n++] = w->consumer;
    argv[n++] = "language";
    argv[n++] = j->language ? j->language : "";
    if (kv_async_eval(w->kv, &job_script_start, 2, n, argv, NULL, on_started, j, &e) != ERR_OK) {
        retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

/* ---- lint ---- */

static void on_linted(void *arg, struct lint_result *res)
{
    struct pipeline_job *j = arg;

    j->lint_task = NULL;
    j->lint = *res;
    /* Before they reach a prompt, a cache key, the result or a log. */
    redact_findings(j->lint.findings);
    /* Each issue once from here on (the model's context, the event, the
     * job): flake8's F401 and pylint's W0611 about one import are one. */
    if (cJSON_IsArray(j->lint.findings)) {
        cJSON *once = answer_merge(NULL, j->lint.findings, NULL);
        if (once != NULL) {
            cJSON_Delete(j->lint.findings);
            j->lint.findings = once;
        }
    }
    if (res->failed && !j->cancelled) {     /* a cancelled job keeps saying so */
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "%s", res->error);
    }
    progress_linted(j->w, j->job_id, j->key, &j->lint);
    j->stage = ST_MODEL;
    step(j);
}

/* ---- redact, then the model step (context, prompt, cache, model) ---- */

/* Redacts, once, every field of the job a prompt may show: the file, the
 * diff, the log, and the short strings (file_path, language: the client's
 * own when we do not know it); the diff stays a diff (redact_diff), which
 * context.c parses for its hunks. The job keeps its fields as sent: they are
 * what it stores and shows; only the redacted texts go to a model, and so
 * into the prompt cache's key (model_ask: a digest of the prompt). */
static int redact_all(struct pipeline_job *j)
{
    const char *content = field(j, "file_content"), *diff = field(j, "diff");
    const char *log = field(j, "error_log"), *path = field(j, "file_path");
    const char *lang = j->language;

    if (j->redacted)
        return 0;
    if (content == NULL)
        content = "";
    if (redact_text(content, strlen(content), &j->red_file) != 0 ||
        (diff != NULL && redact_diff(diff, strlen(diff), &j->red_diff) != 0) ||
        (log != NULL && redact_text(log, strlen(log), &j->red_log) != 0) ||
        (path != NULL && redact_text(path, strlen(path), &j->red_path) != 0) ||
        (lang != NULL && redact_text(lang, strlen(lang), &j->red_lang) != 0))
        return -1;
    j->redacted = 1;
    return 0;
}

static void on_model_done(void *arg, struct model_out *out)
{
    struct pipeline_job *j = arg;

    model_out_cleanup(&j->model);
    j->model = *out;
    j->have_model = 1;
    j->charge.actual = out->tokens;
    if (out->failed && !j->failed) {
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "%s", out->error);
    }
    if (!out->deferred)
        progress_model_called(j->w, j->job_id, j->key, &j->model);
    j->stage = out->deferred ? ST_DEFER : ST_PERSIST;
    step(j);
}

/* When a soft-throttled job's model call becomes due. */
static int64_t defer_due_ms(const struct pipeline_job *j)
{
    return crypto_uuid7_ms(j->job_id) + (int64_t)j->w->cfg->throttle_cooldown_s * 1000;
}

/* Live events of Debug Doctor's sandbox runs (reproduced, verified). */
static void on_debug_step(void *arg, const char *type, cJSON *data)
{
    struct pipeline_job *j = arg;

    progress_emit(j->w, j->job_id, j->key, type, data);
}

/* The job's task after linting: a review's model step, or a heavy task.
 * Each honours in->defer_unless_cached: its outcome says `deferred` instead
 * of calling the model, and on_model_done parks the job. */
static int task_start(struct pipeline_job *j, const struct model_in *in)
{
    struct worker *w = j->w;
    const char *type = field(j, "type");

    if (strcmp(type, "debug") == 0) {
        struct debug_env env = {w->cfg, &w->model, w->sandbox, on_debug_step, j,
                                &j->task_spent};
        struct debug_in d = {
            .file_path = in->file_path, .redacted_path = in->redacted_path,
            .redacted_language = in->redacted_language, .text = in->text, .len = in->len,
            .redacted = in->redacted, .redacted_len = in->redacted_len, .diff = in->diff,
            .error_log = in->error_log, .files = field(j, "files"), .run = field(j, "run"),
            .lint_findings = in->lint_findings, .skip_reason = in->skip_reason,
            .defer_unless_cached = in->defer_unless_cached,
        };
        return debug_task_start(&env, &d, on_model_done, j, &j->task);
    }
    if (strcmp(type, "architecture") == 0)
        return arch_task_start(&w->model, field(j, "spec"), in->skip_reason,
                               in->defer_unless_cached, &j->task_spent, on_model_done, j,
                               &j->task);
    if (strcmp(type, "stress") == 0) {
        struct stress_env env = {w->loop, w->cfg, &w->model, w->stress_policy,
                                 &j->task_spent};
        return stress_task_start(&env, field(j, "spec"), in->skip_reason,
                                 in->defer_unless_cached, on_model_done, j, &j->task);
    }
    return model_step_start(&w->model, in, on_model_done, j, &j->task);
}

static void do_model(struct pipeline_job *j)
{
    struct model_in in;
    struct err e;
    const char *cursor = field(j, "cursor_context");

    if (redact_all(j) != 0) {
        err_set(&e, ERR_INTERNAL, "out of memory redacting");
        retry_later(j, &e);
        return;
    }
    memset(&in, 0, sizeof in);
    in.task = field(j, "type");
    in.file_path = field(j, "file_path");
    in.redacted_path = field(j, "file_path") ? j->red_path.text : NULL;
    in.redacted_language = j->language ? j->red_lang.text : NULL;
    in.text = field(j, "file_content") ? field(j, "file_content") : "";
    in.len = strlen(in.text);
    in.redacted = j->red_file.text;
    in.redacted_len = j->red_file.len;
    in.diff = field(j, "diff") ? j->red_diff.text : NULL;
    in.error_log = field(j, "error_log") ? j->red_log.text : NULL;
    if (cursor != NULL) {
        cJSON *c = cJSON_Parse(cursor);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "line");
        const cJSON *el = cJSON_GetObjectItemCaseSensitive(c, "end_line");
        if (cJSON_IsNumber(l)) {
            in.has_cursor = 1;
            in.cursor_line = (long)l->valuedouble;
            in.cursor_end_line = cJSON_IsNumber(el) ? (long)el->valuedouble : in.cursor_line;
        }
        cJSON_Delete(c);
    }
    in.lint_findings = j->lint.findings;
    if (j->failed)
        in.skip_reason = "the file could not be prepared";
    else if (flag(j, "degraded"))
        in.skip_reason = "budget_exhausted";
    in.defer_unless_cached = flag(j, "throttled") && field(j, "defer_until_ms") == NULL &&
                             clock_now_ms() < defer_due_ms(j);
    in.spent = &j->task_spent;
    /* The outcome may arrive before this returns: touch nothing after it. */
    if (task_start(j, &in) != 0) {
        err_set(&e, ERR_INTERNAL, "out of memory starting the model step");
        retry_later(j, &e);
    }
}

/* ---- defer: a soft-throttled job waits for its model call ---- */

static void on_deferred(void *arg, cJSON *reply, const struct err *e)
{
    struct pipeline_job *j = arg;

    j->busy = 0;
    if (e->code != ERR_OK) {
        retry_later(j, e);
        return;
    }
    if (cJSON_IsNumber(reply) && reply->valuedouble == 0) {
        /* Not pending any more: another worker took it over and finished. */
        job_log(j, LOG_INFO, "job_already_finished", NULL);
        job_release(j, 1);
        return;
    }
    if (cJSON_IsNumber(reply) && reply->valuedouble == 2) {
        /* Its owner cancelled it while it was running: not parked, it ends
         * now (the cancellation's message may still be on its way). */
        if (!j->cancelled) {
            mark_cancelled(j);
            job_log(j, LOG_INFO, "job_cancelled", NULL);
        }
        j->stage = ST_PERSIST;
        step(j);
        return;
    }
    job_log(j, LOG_INFO, "job_deferred", NULL);
    job_count(j, "deferred");
    job_release(j, 1);
}

static void do_defer(struct pipeline_job *j)
{
    struct worker *w = j->w;
    enum { DEFER_ARGS_MAX = 64 };
    const char *argv[DEFER_ARGS_MAX];
    char set[JOB_DEFERRED_KEY_MAX], hold[JOB_DEFERRED_KEY_MAX], due[24];
    char due_iso[CLOCK_RFC3339_LEN], ttl[24];
    const cJSON *it;
    struct err e;
    int n = 0;
    int64_t due_ms = defer_due_ms(j);

    job_deferred_set_key(w->stream, set);
    job_deferred_hold_key(j->job_id, hold);
    snprintf(due, sizeof due, "%lld", (long long)due_ms);
    clock_rfc3339(due_ms, due_iso);
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s + w->cfg->throttle_cooldown_s);
    argv[n++] = j->key;
    argv[n++] = w->stream;
    argv[n++] = set;
    argv[n++] = hold;
    argv[n++] = w->group;
    argv[n++] = j->entry_id;
    argv[n++] = due;
    argv[n++] = due_iso;
    argv[n++] = j->job_id;
    argv[n++] = ttl;
    cJSON_ArrayForEach(it, j->entry) {
        if (n + 2 > DEFER_ARGS_MAX || !cJSON_IsString(it))
            continue;
        argv[n++] = it->string;
        argv[n++] = it->valuestring;
    }
    if (kv_async_eval(w->kv, &job_script_defer, 4, n, argv, NULL, on_deferred, j, &e) != ERR_OK) {
        retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

static void do_lint(struct pipeline_job *j)
{
    const char *content = field(j, "file_content");
    struct err e;

    j->lint_task = lint_start(j->w->lint, field(j, "file_path"), content, strlen(content),
                              field(j, "language"), on_linted, j, &e);
    if (j->lint_task == NULL) {
        retry_later(j, &e);
        return;
    }
}

/* ---- persist ---- */

/* Where the degradation came from: admission (budget) or the model step. */
static const char *degraded_reason(const struct pipeline_job *j)
{
    return job_result_degraded_reason(j->entry, j->have_model ? &j->model : NULL);
}

/* The job as job_result.h sees it. Its usage is the model step's once that
 * finished; before (a job cancelled while its task ran), what the task's
 * answered calls spent, which is what it is charged for (pipeline_cancel). */
static void job_parts(const struct pipeline_job *j, struct job_parts *p)
{
    const struct worker *w = j->w;
    const struct model_out *m = j->have_model ? &j->model : NULL;
    const struct llm_usage *u = m != NULL ? &m->usage : &j->task_spent.usage;
    double cost = u->cost_usd;

    if (cost <= 0)
        cost = llm_cost(w->cfg->llm_prices, llm_model_name(w->llm), u);
    *p = (struct job_parts){
        .entry = j->entry,
        .job_id = j->job_id,
        .language = j->language,
        .pool = w->pool,
        .worker = w->consumer,
        .started_at = j->rejected ? NULL : j->started_at,   /* it never started */
        .finished_at = j->finished_at,
        .attempts = j->attempts,
        .failed = j->failed,
        .error = j->error,
        .cancelled = j->cancelled,
        .minimal = j->persist_form >= PERSIST_MINIMAL,
        .lint = &j->lint,
        .red_file = &j->red_file,
        .model = m,
        .usage = u,
        .provider = llm_provider_name(w->llm),
        .model_name = llm_model_name(w->llm),
        .cost_usd = cost,
        .charge_tokens = j->charge.actual,
    };
}

/* The result every reader sees (hot copy "result" member) and the document
 * PostgreSQL keeps; 0, or -1 when out of memory. */
static int build_documents(struct pipeline_job *j)
{
    struct job_parts p;

    job_documents_cleanup(&j->docs);
    job_parts(j, &p);
    if (job_result_build(&p, &j->docs) < 0)
        return -1;
    if (j->docs.filter_skipped)
        job_log(j, LOG_WARN, "job_filter_skipped", NULL);
    if (j->docs.not_utf8)
        job_log(j, LOG_WARN, "job_result_not_utf8", NULL);
    return 0;
}

/* PostgreSQL refused the document PERSIST_REJECTS_MAX times (the minimal
 * one PERSIST_MINIMAL_REJECTS_MAX; e, the last refusal): the next form
 * replaces it; after the last, the job is published and acknowledged
 * without it (job_persist_abandoned), so the entry never stays pending for
 * good. */
static void persist_fall_back(struct pipeline_job *j, const struct err *e)
{
    static const char *const next[] = {"full", "failed", "minimal", "none"};
    struct log_line l;

    /* retry_ms is kept: each form is tried with the backoff grown so far. */
    j->persist_form++;
    j->persist_rejects = 0;
    j->failed = 1;
    if (!j->rejected)   /* it had no result: what it failed of stays its error */
        snprintf(j->error, sizeof j->error, "the result could not be stored");
    job_log_begin(&l, j, LOG_ERROR, j->persist_form == PERSIST_NONE ? "job_persist_abandoned"
                                                                     : "job_persist_rejected");
    log_str(&l, "stored", next[j->persist_form]);
    log_errfields(&l, e);
    log_end(&l);
    j->stage = j->persist_form == PERSIST_NONE ? ST_PUBLISH : ST_PERSIST;
    step(j);
}

/* Another delivery's result is the job's (job_finish.lua, ci_job_save):
 * this worker was cut off past the visibility timeout and the job taken
 * over, or the job it held was ended by the worker that took it over. Its
 * own result goes nowhere; the entry is the other worker's to retire. */
static void superseded(struct pipeline_job *j)
{
    job_log(j, LOG_WARN, "job_superseded", NULL);
    job_count(j, "superseded");
    job_release(j, 0);
}

static void on_persisted(void *arg, const char *value, const struct err *e)
{
    struct pipeline_job *j = arg;

    j->busy = 0;
    if (e->code == ERR_OK && value != NULL && strcmp(value, JOB_SAVE_SUPERSEDED) == 0) {
        if (!j->rejected) {
            superseded(j);
            return;
        }
        /* A rejected job counts no delivery (it never starts), so each
         * delivery ties with an earlier one's row: its own rejection, stored
         * before its worker died, or a newer worker's result. The entry is
         * still to be retired: job_finish.lua, which counts the deliveries
         * started, tells the two apart. */
        j->stage = ST_PUBLISH;
        step(j);
        return;
    }
    if (e->code == ERR_OK && value != NULL && value[0] != '\0' && j->budget_key[0] != '\0')
        /* What the ledger holds: an earlier delivery's charge when this job
         * was processed before (the counter must agree with the ledger). */
        j->charge.actual = strtoll(value, NULL, 10);
    if (e->code == ERR_PROTOCOL &&
        ++j->persist_rejects >= (j->persist_form == PERSIST_MINIMAL ? PERSIST_MINIMAL_REJECTS_MAX
                                                                     : PERSIST_REJECTS_MAX)) {
        persist_fall_back(j, e);
        return;
    }
    if (e->code != ERR_OK) {
        retry_later(j, e);
        return;
    }
    j->retry_ms = 0;
    /* PostgreSQL holds it: the optional history gets a copy. */
    if (j->w->history != NULL && j->docs.document != NULL)
        mongo_sink_put(j->w->history, j->docs.document, strlen(j->docs.document));
    j->stage = ST_PUBLISH;
    step(j);
}

static void do_persist(struct pipeline_job *j)
{
    struct err e;

    if (j->finished_at[0] == '\0')
        clock_rfc3339(clock_now_ms(), j->finished_at);
    if (build_documents(j) < 0) {
        err_set(&e, ERR_INTERNAL, "out of memory building the result");
        retry_later(j, &e);
        return;
    }
    if (db_async_query(j->w->db, JOB_SQL_SAVE, 1, (const char *[]){j->docs.document}, on_persisted,
                       j, &e) != ERR_OK) {
        retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

/* ---- publish the hot copy and acknowledge, atomically ---- */

/* Lets the gateway answer an identical submission with this job at once,
 * while this pool's workers would still answer it so: the entry carries
 * the answer version of this worker (common/job.h, "rcache:"). Only
 * complete results qualify: a job degraded by a failure or a budget would
 * deserve a second try. */
static void result_cache_store(const struct pipeline_job *j)
{
    const char *key = field(j, "result_key"), *reason = degraded_reason(j);
    long ttl = model_cache_ttl(j->w->cfg, field(j, "type"));
    char rkey[160], ttl_s[24], value[CRYPTO_UUID_LEN + ANSWER_VERSION_LEN];
    struct err e;
    int type;

    if (key == NULL || j->failed || (reason != NULL && strncmp(reason, "offline", 7) != 0))
        return;
    type = job_type_parse(field(j, "type"));    /* entry_complete: the entry has one */
    if (ttl <= 0 || type < 0 || j->w->answers[type][0] == '\0')
        return;
    snprintf(rkey, sizeof rkey, "rcache:%.140s", key);
    snprintf(ttl_s, sizeof ttl_s, "%ld", ttl);
    snprintf(value, sizeof value, "%s %s", j->job_id, j->w->answers[type]);
    kv_async_call(j->w->kv, 5, (const char *[]){"SET", rkey, value, "EX", ttl_s}, NULL, NULL,
                  NULL, &e);
}

static void on_published(void *arg, cJSON *reply, const struct err *e)
{
    struct pipeline_job *j = arg;
    const char *reason = degraded_reason(j);

    j->busy = 0;
    if (e->code != ERR_OK) {
        retry_later(j, e);
        return;
    }
    if (cJSON_IsNumber(reply) && reply->valuedouble < 0) {
        superseded(j);
        return;
    }
    job_log(j, j->failed && !j->cancelled ? LOG_WARN : LOG_INFO, "job_done", NULL);
    /* A worker without a model (offline) completes jobs as configured. */
    job_count(j, j->dead          ? "dead"
                 : j->cancelled ? "cancelled"
                 : j->failed    ? "failed"
                 : reason != NULL && strncmp(reason, "offline", 7) != 0 ? "degraded"
                                                                       : "done");
    result_cache_store(j);
    job_release(j, !j->failed || j->cancelled);
}

/* An entry without a job id has no hot copy to update: just retire it. */
static void do_retire(struct pipeline_job *j)
{
    struct worker *w = j->w;
    struct err e;

    if (kv_async_call(w->kv, 4, (const char *[]){"XACK", w->stream, w->group, j->entry_id},
                      NULL, NULL, NULL, &e) != ERR_OK ||
        kv_async_call(w->kv, 3, (const char *[]){"XDEL", w->stream, j->entry_id}, NULL,
                      on_published, j, &e) != ERR_OK) {
        retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

static void do_publish(struct pipeline_job *j)
{
    struct worker *w = j->w;
    char ttl[24];
    struct err e;
    const char *argv[26 + 2 * REJECTED_VIEW_FIELDS];
    char reserved[24], actual[24], dead[96], attempts[24];
    int n = 0;

    if (j->job_id[0] == '\0') {
        do_retire(j);
        return;
    }

    if (j->finished_at[0] == '\0')
        clock_rfc3339(clock_now_ms(), j->finished_at);
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);
    snprintf(reserved, sizeof reserved, "%lld", (long long)j->charge.reserved);
    snprintf(actual, sizeof actual, "%lld", (long long)j->charge.actual);
    snprintf(attempts, sizeof attempts, "%ld", j->attempts);
    argv[n++] = j->key;
    argv[n++] = w->stream;
    if (j->budget_key[0] != '\0')
        argv[n++] = j->budget_key;
    argv[n++] = w->group;
    argv[n++] = j->entry_id;
    argv[n++] = ttl;
    argv[n++] = reserved;
    argv[n++] = actual;
    snprintf(dead, sizeof dead, "%s:dead", w->stream);
    argv[n++] = j->dead ? dead : "";
    argv[n++] = j->job_id;
    argv[n++] = "status";
    argv[n++] = job_status(j);
    argv[n++] = "finished_at";
    argv[n++] = j->finished_at;
    argv[n++] = "error";
    argv[n++] = j->failed ? j->error : "";
    argv[n++] = "attempts";
    argv[n++] = attempts;
    argv[n++] = "worker";
    argv[n++] = w->consumer;
    if (j->docs.result != NULL) {
        argv[n++] = "result";
        argv[n++] = j->docs.result;
    }
    for (size_t i = 0; j->rejected && i < REJECTED_VIEW_FIELDS; i++) {
        const char *v = field(j, rejected_view_fields[i]);
        if (v != NULL) {
            argv[n++] = rejected_view_fields[i];
            argv[n++] = v;
        }
    }
    if (kv_async_eval(w->kv, &job_script_finish, j->budget_key[0] ? 3 : 2, n, argv, NULL,
                      on_published, j, &e) != ERR_OK) {
        retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

static void step(struct pipeline_job *j)
{
    if (j->released)
        return;     /* left pending (pipeline_release_all): nothing more of it happens */
    if (j->cancelled && (j->stage == ST_LINT || j->stage == ST_MODEL || j->stage == ST_DEFER))
        j->stage = ST_PERSIST;      /* no more work: it ends as cancelled */
    switch (j->stage) {
    case ST_START:   do_start(j);   break;
    case ST_LINT:    do_lint(j);    break;
    case ST_MODEL:   do_model(j);   break;
    case ST_DEFER:   do_defer(j);   break;
    case ST_PERSIST: do_persist(j); break;
    case ST_PUBLISH: do_publish(j); break;
    }
}

/* What a job of its type cannot do without. */
static int entry_complete(const struct pipeline_job *j)
{
    const char *type = field(j, "type");

    if (type == NULL || job_type_parse(type) < 0 || field(j, "created_at") == NULL)
        return 0;
    if (strcmp(type, "architecture") == 0 || strcmp(type, "stress") == 0)
        return field(j, "spec") != NULL;
    return field(j, "file_path") != NULL && field(j, "file_content") != NULL;
}

/* Its entry is not ours to run (another release's gateway wrote it, or it
 * is damaged), nor to retry: the job fails as a "malformed queue entry",
 * and is stored, then published, as any failed job is, which retires the
 * entry and gives its reservation back (job_finish.lua). PostgreSQL keeps
 * the minimal form: what the entry says of the job (its owner, type and
 * created_at), none of the text in it. An entry naming no job is only
 * retired. */
static void reject(struct pipeline_job *j)
{
    char created[CLOCK_RFC3339_LEN];

    j->failed = 1;
    j->rejected = 1;
    snprintf(j->error, sizeof j->error, "malformed queue entry");
    job_log(j, LOG_ERROR, "job_rejected", NULL);
    /* An older gateway's entry may lack it; a job always has one. Out of
     * memory, PostgreSQL refuses the row and the hot copy goes without. */
    if (field(j, "created_at") == NULL && admitted_at(j, created) != NULL)
        cJSON_AddStringToObject(j->entry, "created_at", created);
    j->persist_form = PERSIST_MINIMAL;
    j->stage = j->job_id[0] != '\0' ? ST_PERSIST : ST_PUBLISH;
    step(j);
}

void pipeline_begin(struct worker *w, const char *entry_id, const cJSON *fields)
{
    struct pipeline_job *j = calloc(1, sizeof *j);
    const char *id, *lang, *text;

    w->inflight++;
    if (j == NULL) {
        /* The entry stays pending and is retried by reclaim. */
        worker_job_released(w, 0);
        return;
    }
    j->w = w;
    j->began_ms = clock_mono_ms();
    j->next = w->jobs;
    if (w->jobs != NULL)
        w->jobs->prev = j;
    w->jobs = j;
    j->retry = loop_timer_new(w->loop, on_retry, j);
    snprintf(j->entry_id, sizeof j->entry_id, "%s", entry_id);
    j->entry = job_entry_object(fields);
    clock_rfc3339(clock_now_ms(), j->started_at);
    if (j->retry == NULL || j->entry == NULL) {
        job_release(j, 0);
        return;
    }
    /* The job id names the entry (common/job.h); an entry put back after a
     * deferral, or queued before ids named entries, carries it instead. */
    id = field(j, "job_id");
    if (id != NULL && crypto_uuid_valid(id))
        snprintf(j->job_id, sizeof j->job_id, "%s", id);
    else if (id == NULL)            /* leaves job_id "" when the entry is malformed */
        job_id_of_entry(w->stream, entry_id, field(j, JOB_ID_BITS_FIELD), j->job_id);
    if (j->job_id[0] != '\0')
        job_key(j->job_id, j->key);
    /* Before the entry is judged: one this worker cannot use gives its
     * reservation back too (job_finish.lua). */
    if (field(j, "user_id") != NULL && field(j, "month") != NULL) {
        snprintf(j->charge.month, sizeof j->charge.month, "%s", field(j, "month"));
        j->charge.reserved = field(j, "reserved") ? strtoll(field(j, "reserved"), NULL, 10) : 0;
        j->charge.actual = 0;
        budget_key(field(j, "user_id"), j->charge.month, j->budget_key);
    }
    if (j->job_id[0] == '\0' || !entry_complete(j)) {
        reject(j);
        return;
    }
    lang = field(j, "language");
    text = field(j, "file_content");
    j->language = linters_language_resolve(lang, field(j, "file_path"), text,
                                           text != NULL ? strlen(text) : 0);
    if (j->language == NULL && lang != NULL && lang[0] != '\0')
        j->language = lang;     /* unknown to us, but what the client said */
    j->stage = ST_START;
    step(j);
}

int pipeline_holds(const struct worker *w, const char *entry_id)
{
    for (const struct pipeline_job *j = w->jobs; j != NULL; j = j->next)
        if (strcmp(j->entry_id, entry_id) == 0)
            return 1;
    return 0;
}

int pipeline_held(const struct worker *w, const char **entry_ids, const char **job_ids, int max)
{
    int n = 0;

    for (const struct pipeline_job *j = w->jobs; j != NULL && n < max; j = j->next) {
        if (j->released)
            continue;       /* given back: no longer this worker's to keep */
        entry_ids[n] = j->entry_id;
        job_ids[n++] = j->job_id;
    }
    return n;
}

int pipeline_cancel(struct worker *w, const char *job_id)
{
    struct pipeline_job *j = w->jobs;

    while (j != NULL && strcmp(j->job_id, job_id) != 0)
        j = j->next;
    /* Past its model step the work is done: it ends as it is. */
    if (j == NULL || j->cancelled || j->dead || j->stage >= ST_PERSIST)
        return 0;
    mark_cancelled(j);
    job_log(j, LOG_INFO, "job_cancelled", NULL);
    if (j->stage == ST_MODEL && j->task.fn != NULL) {
        /* Its model call is aborted (or sandbox run killed, load stopped):
         * its callback never runs, so the job goes on from here. */
        cancel_now(&j->task);
        /* The calls it made, the aborted one too; their usage and cost are
         * the job's (job_parts). */
        j->charge.actual = j->task_spent.tokens;
        step(j);
    }
    /* Else the step under way (start, linters, a retry's wait, a deferral)
     * sees it when it ends. */
    return 1;
}

int pipeline_cancel_tasks(struct worker *w)
{
    int n = 0;

    for (struct pipeline_job *j = w->jobs; j != NULL; j = j->next) {
        if (j->task.fn == NULL)
            continue;
        cancel_now(&j->task);
        n++;
    }
    return n;
}

int pipeline_release_all(struct worker *w, kv_async_cb *cb)
{
    char attempts[24], idle[24], ttl[24];
    struct err e;
    int n = 0;

    snprintf(idle, sizeof idle, "%ld", w->cfg->visibility_ms);
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);

    for (struct pipeline_job *j = w->jobs; j != NULL; j = j->next) {
        /* Only before anything of it is stored: a job that reached
         * PostgreSQL keeps its attempt, so that no later delivery's save
         * ties with it (ci_job_save). */
        if (j->released || j->attempts <= 0 || (j->stage != ST_LINT && j->stage != ST_MODEL))
            continue;
        if (j->task.fn != NULL)
            cancel_now(&j->task);
        j->released = 1;
        snprintf(attempts, sizeof attempts, "%ld", j->attempts);
        if (kv_async_eval(w->kv, &job_script_release, 2, 9,
                          (const char *[]){j->key, w->stream, w->consumer, attempts, w->group,
                                           j->entry_id, idle, WORKER_CHANNEL, ttl},
                          NULL, cb, w, &e) == ERR_OK)
            n++;
    }
    return n;
}

int pipeline_abandon_all(struct worker *w)
{
    int n = 0;

    while (w->jobs != NULL) {
        job_log(w->jobs, LOG_WARN, "job_abandoned", NULL);
        job_free(w->jobs);
        n++;
    }
    return n;
}
