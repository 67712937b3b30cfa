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
#include "common/log.h"
#include "common/loop.h"
#include "worker/lint.h"
#include "worker/linters.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_FIRST_MS 200
/* A statement PostgreSQL rejects is retried this often before the job is
 * recorded as failed (it would fail the same way forever). */
#define PERSIST_REJECTS_MAX 3

enum stage { ST_START, ST_LINT, ST_PERSIST, ST_PUBLISH };

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
    int persist_rejects;
    char *result_text;              /* hot copy "result" field */
    char *doc_text;                 /* PostgreSQL document */
    struct loop_timer *retry;
    unsigned retry_ms;
    struct budget_charge charge;    /* reconciled once, in job_finish.lua */
    char budget_key[BUDGET_KEY_MAX];
};

static void step(struct pipeline_job *j);

static const char *field(const struct pipeline_job *j, const char *name)
{
    return json_str(j->entry, name);
}

static int flag(const struct pipeline_job *j, const char *name)
{
    const char *v = field(j, name);
    return v != NULL && strcmp(v, "1") == 0;
}

static void job_log(const struct pipeline_job *j, enum log_level lvl, const char *event,
                    const struct err *e)
{
    struct log_line l;

    log_begin(&l, lvl, event);
    log_str(&l, "job_id", j->job_id[0] ? j->job_id : NULL);
    log_str(&l, "request_id", field(j, "request_id"));
    log_str(&l, "entry_id", j->entry_id);
    log_str(&l, "pool", j->w->pool);
    if (e != NULL)
        log_errfields(&l, e);
    if (strcmp(event, "job_done") == 0) {
        log_str(&l, "status", j->failed ? "failed" : "done");
        log_int(&l, "findings", cJSON_GetArraySize(j->lint.findings));
        log_int(&l, "attempts", j->attempts);
        log_int(&l, "duration_ms", clock_mono_ms() - j->began_ms);
    }
    log_end(&l);
}

static void job_free(struct pipeline_job *j)
{
    struct worker *w = j->w;

    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        w->jobs = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    loop_timer_free(j->retry);
    lint_result_cleanup(&j->lint);
    cJSON_Delete(j->entry);
    free(j->result_text);
    free(j->doc_text);
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
    job_log(j, LOG_INFO, "job_started", NULL);
    j->stage = ST_LINT;
    step(j);
}

static void do_start(struct pipeline_job *j)
{
    struct worker *w = j->w;
    char ttl[24];
    struct err e;
    const char *argv[12];
    int n = 0;

    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);
    argv[n++] = j->key;
    argv[n++] = ttl;
    argv[n++] = "started_at";
    argv[n++] = j->started_at;
    argv[n++] = "pool";
    argv[n++] = w->pool;
    argv[n++] = "worker";
    argv[n++] = w->consumer;
    argv[n++] = "language";
    argv[n++] = j->language ? j->language : "";
    if (kv_async_eval(w->kv, &job_script_start, 1, n, argv, NULL, on_started, j, &e) != ERR_OK) {
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
    if (res->failed) {
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "%s", res->error);
    }
    j->stage = ST_PERSIST;
    step(j);
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

static void summary_add(char *buf, size_t cap, int n, const char *what)
{
    size_t used = strlen(buf);

    if (n > 0 && used < cap)
        snprintf(buf + used, cap - used, "%s%d %s", used ? ", " : "", n, what);
}

/* "3 findings (1 major, 2 minor) from flake8, pylint." */
static char *summary_build(const struct pipeline_job *j)
{
    static const char *const sev[] = {"critical", "major", "minor", "info"};
    char counts[128] = "", tools[128] = "", *out;
    int total = cJSON_GetArraySize(j->lint.findings), ran = 0;
    const cJSON *it;
    size_t cap = 512;

    if (j->failed)
        return strdup("The review could not run.");
    for (int s = 0; s < 4; s++) {
        int n = 0;
        cJSON_ArrayForEach(it, j->lint.findings) {
            const char *v = json_str(it, "severity");
            n += v != NULL && strcmp(v, sev[s]) == 0;
        }
        summary_add(counts, sizeof counts, n, sev[s]);
    }
    cJSON_ArrayForEach(it, j->lint.linters) {
        const char *st = json_str(it, "status"), *tool = json_str(it, "tool");
        size_t used = strlen(tools);
        if (st != NULL && tool != NULL && strcmp(st, "ok") == 0 && used < sizeof tools) {
            snprintf(tools + used, sizeof tools - used, "%s%s", ran ? ", " : "", tool);
            ran++;
        }
    }
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    if (ran == 0)
        snprintf(out, cap, "No linter ran for this file; see notes.");
    else if (total == 0)
        snprintf(out, cap, "No findings from %s.", tools);
    else
        snprintf(out, cap, "%d finding%s (%s) from %s.", total, total == 1 ? "" : "s", counts,
                 tools);
    return out;
}

static void add_str_or_null(cJSON *o, const char *name, const char *v)
{
    if (v != NULL && v[0] != '\0')
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

/* Builds the hot-copy result and the PostgreSQL document. */
static int build_documents(struct pipeline_job *j)
{
    cJSON *result = cJSON_CreateObject(), *doc = cJSON_CreateObject();
    char *summary = summary_build(j);
    int ok = 0;

    if (result == NULL || doc == NULL || summary == NULL)
        goto out;
    if (j->lint.findings == NULL)
        j->lint.findings = cJSON_CreateArray();
    if (j->lint.notes == NULL)
        j->lint.notes = cJSON_CreateArray();
    if (j->lint.linters == NULL)
        j->lint.linters = cJSON_CreateArray();
    cJSON_AddItemReferenceToObject(result, "findings", j->lint.findings);
    cJSON_AddStringToObject(result, "summary", summary);
    cJSON_AddItemReferenceToObject(result, "notes", j->lint.notes);
    cJSON_AddItemReferenceToObject(result, "linters", j->lint.linters);

    cJSON_AddStringToObject(doc, "job_id", j->job_id);
    add_str_or_null(doc, "type", field(j, "type"));
    cJSON_AddStringToObject(doc, "status", j->failed ? "failed" : "done");
    add_str_or_null(doc, "created_at", field(j, "created_at"));
    cJSON_AddStringToObject(doc, "started_at", j->started_at);
    cJSON_AddStringToObject(doc, "finished_at", j->finished_at);
    cJSON_AddNumberToObject(doc, "attempts", (double)j->attempts);
    add_str_or_null(doc, "file_path", field(j, "file_path"));
    add_str_or_null(doc, "language", j->language);
    add_str_or_null(doc, "repo_id", field(j, "repo_id"));
    add_str_or_null(doc, "request_id", field(j, "request_id"));
    cJSON_AddStringToObject(doc, "pool", j->w->pool);
    cJSON_AddStringToObject(doc, "worker", j->w->consumer);
    cJSON_AddItemReferenceToObject(doc, "findings", j->lint.findings);
    cJSON_AddStringToObject(doc, "summary", summary);
    cJSON_AddItemReferenceToObject(doc, "notes", j->lint.notes);
    cJSON_AddItemReferenceToObject(doc, "linters", j->lint.linters);
    add_str_or_null(doc, "error", j->failed ? j->error : NULL);
    add_str_or_null(doc, "user_id", field(j, "user_id"));
    cJSON_AddBoolToObject(doc, "throttled", flag(j, "throttled"));
    cJSON_AddBoolToObject(doc, "degraded", flag(j, "degraded"));
    add_str_or_null(doc, "degraded_reason", field(j, "degraded_reason"));
    if (field(j, "user_id") != NULL && field(j, "month") != NULL) {
        /* The ledger row; without a model the job used no tokens. */
        cJSON_AddStringToObject(doc, "charge_month", field(j, "month"));
        cJSON_AddNumberToObject(doc, "charge_tokens", (double)j->charge.actual);
    }

    free(j->result_text);
    free(j->doc_text);
    j->result_text = cJSON_PrintUnformatted(result);
    j->doc_text = cJSON_PrintUnformatted(doc);
    ok = j->result_text != NULL && j->doc_text != NULL;
out:
    cJSON_Delete(result);
    cJSON_Delete(doc);
    free(summary);
    return ok;
}

static void on_persisted(void *arg, const char *value, const struct err *e)
{
    struct pipeline_job *j = arg;

    (void)value;
    j->busy = 0;
    if (e->code == ERR_PROTOCOL && ++j->persist_rejects >= PERSIST_REJECTS_MAX && !j->failed) {
        /* PostgreSQL refuses this document: record the job as failed instead. */
        job_log(j, LOG_ERROR, "job_persist_rejected", e);
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "the result could not be stored");
        cJSON_Delete(j->lint.findings);
        j->lint.findings = cJSON_CreateArray();
        j->persist_rejects = 0;
        step(j);
        return;
    }
    if (e->code != ERR_OK) {
        retry_later(j, e);
        return;
    }
    j->retry_ms = 0;
    j->stage = ST_PUBLISH;
    step(j);
}

static void do_persist(struct pipeline_job *j)
{
    struct err e;

    if (j->finished_at[0] == '\0')
        clock_rfc3339(clock_now_ms(), j->finished_at);
    if (!build_documents(j)) {
        err_set(&e, ERR_INTERNAL, "out of memory building the result");
        retry_later(j, &e);
        return;
    }
    if (db_async_query(j->w->db, JOB_SQL_SAVE, 1, (const char *[]){j->doc_text}, on_persisted,
                       j, &e) != ERR_OK) {
        retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

/* ---- publish the hot copy and acknowledge, atomically ---- */

static void on_published(void *arg, cJSON *reply, const struct err *e)
{
    struct pipeline_job *j = arg;

    (void)reply;
    j->busy = 0;
    if (e->code != ERR_OK) {
        retry_later(j, e);
        return;
    }
    job_log(j, j->failed ? LOG_WARN : LOG_INFO, "job_done", NULL);
    job_release(j, !j->failed);
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
    const char *argv[24];
    char reserved[24], actual[24];
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
    argv[n++] = j->key;
    argv[n++] = w->stream;
    if (j->budget_key[0] != '\0')
        argv[n++] = j->budget_key;
    argv[n++] = w->group;
    argv[n++] = j->entry_id;
    argv[n++] = ttl;
    argv[n++] = reserved;
    argv[n++] = actual;
    argv[n++] = "status";
    argv[n++] = j->failed ? "failed" : "done";
    argv[n++] = "finished_at";
    argv[n++] = j->finished_at;
    argv[n++] = "error";
    argv[n++] = j->failed ? j->error : "";
    if (j->result_text != NULL) {
        argv[n++] = "result";
        argv[n++] = j->result_text;
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
    switch (j->stage) {
    case ST_START:   do_start(j);   break;
    case ST_LINT:    do_lint(j);    break;
    case ST_PERSIST: do_persist(j); break;
    case ST_PUBLISH: do_publish(j); break;
    }
}

/* Copies the flat field list into an object; later duplicates win. */
static cJSON *entry_object(const cJSON *fields)
{
    cJSON *o = cJSON_CreateObject();
    int n = cJSON_GetArraySize(fields);

    for (int i = 0; o != NULL && i + 1 < n; i += 2) {
        const cJSON *k = cJSON_GetArrayItem(fields, i), *v = cJSON_GetArrayItem(fields, i + 1);
        if (!cJSON_IsString(k) || !cJSON_IsString(v))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(o, k->valuestring);
        cJSON_AddStringToObject(o, k->valuestring, v->valuestring);
    }
    return o;
}

void pipeline_begin(struct worker *w, const char *entry_id, const cJSON *fields)
{
    struct pipeline_job *j = calloc(1, sizeof *j);
    const char *id, *lang;

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
    j->entry = entry_object(fields);
    clock_rfc3339(clock_now_ms(), j->started_at);
    if (j->retry == NULL || j->entry == NULL) {
        job_release(j, 0);
        return;
    }
    id = field(j, "job_id");
    if (id != NULL && crypto_uuid_valid(id)) {
        snprintf(j->job_id, sizeof j->job_id, "%s", id);
        job_key(j->job_id, j->key);
    }
    if (j->job_id[0] == '\0' || field(j, "type") == NULL || field(j, "file_path") == NULL ||
        field(j, "file_content") == NULL || field(j, "created_at") == NULL) {
        /* Not ours to retry: record it as failed and retire the entry. */
        j->failed = 1;
        snprintf(j->error, sizeof j->error, "malformed queue entry");
        job_log(j, LOG_ERROR, "job_rejected", NULL);
        j->stage = ST_PUBLISH;
        step(j);
        return;
    }
    lang = field(j, "language");
    j->language = lang ? linters_language_canonical(lang) : NULL;
    if (j->language == NULL)
        j->language = linters_language_from_path(field(j, "file_path"));
    if (j->language == NULL)
        j->language = lang;     /* unknown to us, but what the client said */
    if (field(j, "user_id") != NULL && field(j, "month") != NULL) {
        snprintf(j->charge.month, sizeof j->charge.month, "%s", field(j, "month"));
        j->charge.reserved = field(j, "reserved") ? strtoll(field(j, "reserved"), NULL, 10) : 0;
        j->charge.actual = 0;
        budget_key(field(j, "user_id"), j->charge.month, j->budget_key);
    }
    j->stage = ST_START;
    step(j);
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
