/* pipeline_job.c - what every step of a job shares (pipeline_job.h). */
#include "worker/pipeline_job.h"

#include "common/config.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_FIRST_MS 200

const char *pj_status(const struct pipeline_job *j)
{
    return j->cancelled ? "cancelled" : j->failed ? "failed" : "done";
}

const char *pj_field(const struct pipeline_job *j, const char *name)
{
    return json_str(j->entry, name);
}

int pj_flag(const struct pipeline_job *j, const char *name)
{
    const char *v = pj_field(j, name);
    return v != NULL && strcmp(v, "1") == 0;
}

void pj_log_begin(struct log_line *l, const struct pipeline_job *j, enum log_level lvl,
                  const char *event)
{
    log_begin(l, lvl, event);
    log_str(l, "job_id", j->job_id[0] ? j->job_id : NULL);
    log_str(l, "request_id", pj_field(j, "request_id"));
    log_str(l, "entry_id", j->entry_id);
    log_str(l, "pool", j->w->pool);
}

void pj_log(const struct pipeline_job *j, enum log_level lvl, const char *event,
            const struct err *e)
{
    struct log_line l;

    pj_log_begin(&l, j, lvl, event);
    if (e != NULL)
        log_errfields(&l, e);
    if (strcmp(event, "job_done") == 0) {
        log_str(&l, "status", pj_status(j));
        /* What the job reports: none when it failed or was cancelled. */
        log_int(&l, "findings", cJSON_GetArraySize(j->docs.findings));
        log_int(&l, "attempts", j->attempts);
        log_int(&l, "duration_ms", clock_mono_ms() - j->began_ms);
    }
    log_end(&l);
}

void pj_count(const struct pipeline_job *j, const char *outcome)
{
    const char *type = pj_field(j, "type");
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

void pj_free(struct pipeline_job *j)
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

void pj_release(struct pipeline_job *j, int ok)
{
    struct worker *w = j->w;

    pj_free(j);
    worker_job_released(w, ok);
}

void pj_retry_later(struct pipeline_job *j, const struct err *e)
{
    unsigned half, delay, r;
    unsigned cap = (unsigned)j->w->cfg->retry_max_ms;

    if (j->w->stopping && clock_mono_ms() >= j->w->stop_deadline_ms) {
        pj_log(j, LOG_WARN, "job_abandoned", e);
        pj_release(j, 0);
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
        log_str(&l, "request_id", pj_field(j, "request_id"));
        log_int(&l, "stage", j->stage);
        log_int(&l, "delay_ms", delay);
        log_errfields(&l, e);
        log_end(&l);
    }
    loop_timer_start(j->retry, delay, 0);
}
