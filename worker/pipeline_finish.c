/* pipeline_finish.c - a job's last two stages (pipeline_job.h): its
 * result stored in PostgreSQL, then its hot copy published and its entry
 * acknowledged. */
#include "worker/pipeline_job.h"

#include "common/config.h"
#include "common/db_async.h"
#include "common/kv_async.h"
#include "common/llm.h"
#include "worker/answer_version.h"
#include "worker/model_ask.h"
#include "worker/mongo_sink.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A document PostgreSQL rejects is retried this often before the next,
 * smaller form replaces it (it would fail the same way forever). */
#define PERSIST_REJECTS_MAX 3
/* Refusals of the minimal form before the job is given up without it: more,
 * the backoff still growing (to CODEINSIGHT_RETRY_MAX_MS: some two minutes
 * by default), as giving up leaves PostgreSQL no row; a refusal that passes
 * (a failover's read-only window) is ridden out. */
#define PERSIST_MINIMAL_REJECTS_MAX 8

/* What a job's view needs of its entry (lib/job_read.lua copies them into
 * the hash when the job starts); a rejected job never started, so its
 * finish writes them, its owner first: without one, nobody may read it.
 * Its created_at is its entry's, else its admission's (reject). */
static const char *const rejected_view_fields[] = {"user_id", "type", "created_at",
                                                   "file_path", "request_id"};
#define REJECTED_VIEW_FIELDS (sizeof rejected_view_fields / sizeof rejected_view_fields[0])

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
        pj_log(j, LOG_WARN, "job_filter_skipped", NULL);
    if (j->docs.not_utf8)
        pj_log(j, LOG_WARN, "job_result_not_utf8", NULL);
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
    pj_log_begin(&l, j, LOG_ERROR, j->persist_form == PERSIST_NONE ? "job_persist_abandoned"
                                                                     : "job_persist_rejected");
    log_str(&l, "stored", next[j->persist_form]);
    log_errfields(&l, e);
    log_end(&l);
    j->stage = j->persist_form == PERSIST_NONE ? ST_PUBLISH : ST_PERSIST;
    pj_step(j);
}

/* Another delivery's result is the job's (job_finish.lua, ci_job_save):
 * this worker was cut off past the visibility timeout and the job taken
 * over, or the job it held was ended by the worker that took it over. Its
 * own result goes nowhere; the entry is the other worker's to retire. */
static void superseded(struct pipeline_job *j)
{
    pj_log(j, LOG_WARN, "job_superseded", NULL);
    pj_count(j, "superseded");
    pj_release(j, 0);
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
        pj_step(j);
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
        pj_retry_later(j, e);
        return;
    }
    j->retry_ms = 0;
    /* PostgreSQL holds it: the optional history gets a copy. */
    if (j->w->history != NULL && j->docs.document != NULL)
        mongo_sink_put(j->w->history, j->docs.document, strlen(j->docs.document));
    j->stage = ST_PUBLISH;
    pj_step(j);
}

void pj_persist(struct pipeline_job *j)
{
    struct err e;

    if (j->finished_at[0] == '\0')
        clock_rfc3339(clock_now_ms(), j->finished_at);
    if (build_documents(j) < 0) {
        err_set(&e, ERR_INTERNAL, "out of memory building the result");
        pj_retry_later(j, &e);
        return;
    }
    if (db_async_query(j->w->db, JOB_SQL_SAVE, 1, (const char *[]){j->docs.document}, on_persisted,
                       j, &e) != ERR_OK) {
        pj_retry_later(j, &e);
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
    const char *key = pj_field(j, "result_key"), *reason = degraded_reason(j);
    long ttl = model_cache_ttl(j->w->cfg, pj_field(j, "type"));
    char rkey[160], ttl_s[24], value[CRYPTO_UUID_LEN + ANSWER_VERSION_LEN];
    struct err e;
    int type;

    if (key == NULL || j->failed || (reason != NULL && strncmp(reason, "offline", 7) != 0))
        return;
    type = job_type_parse(pj_field(j, "type"));    /* entry_complete: the entry has one */
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
        pj_retry_later(j, e);
        return;
    }
    if (cJSON_IsNumber(reply) && reply->valuedouble < 0) {
        superseded(j);
        return;
    }
    pj_log(j, j->failed && !j->cancelled ? LOG_WARN : LOG_INFO, "job_done", NULL);
    /* A worker without a model (offline) completes jobs as configured. */
    pj_count(j, j->dead          ? "dead"
                 : j->cancelled ? "cancelled"
                 : j->failed    ? "failed"
                 : reason != NULL && strncmp(reason, "offline", 7) != 0 ? "degraded"
                                                                       : "done");
    result_cache_store(j);
    pj_release(j, !j->failed || j->cancelled);
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
        pj_retry_later(j, &e);
        return;
    }
    j->busy = 1;
}

void pj_publish(struct pipeline_job *j)
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
    argv[n++] = pj_status(j);
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
        const char *v = pj_field(j, rejected_view_fields[i]);
        if (v != NULL) {
            argv[n++] = rejected_view_fields[i];
            argv[n++] = v;
        }
    }
    if (kv_async_eval(w->kv, &job_script_finish, j->budget_key[0] ? 3 : 2, n, argv, NULL,
                      on_published, j, &e) != ERR_OK) {
        pj_retry_later(j, &e);
        return;
    }
    j->busy = 1;
}
