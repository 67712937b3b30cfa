/* progress.c - pipeline steps as live job events. */
#include "worker/progress.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv_async.h"
#include "common/log.h"
#include "worker/lint.h"
#include "worker/model_step.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"type":..,"job_id":..,"at":.., then data's members}; owns, or NULL. */
static char *event_text(const char *job_id, const char *type, cJSON *data)
{
    char at[CLOCK_RFC3339_LEN];
    cJSON *ev = cJSON_CreateObject(), *it;
    char *text;

    if (ev == NULL)
        return NULL;
    cJSON_AddStringToObject(ev, "type", type);
    cJSON_AddStringToObject(ev, "job_id", job_id);
    cJSON_AddStringToObject(ev, "at", clock_rfc3339(clock_now_ms(), at));
    while (data != NULL && (it = data->child) != NULL)
        cJSON_AddItemToObject(ev, it->string, cJSON_DetachItemViaPointer(data, it));
    text = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    return text;
}

void progress_emit(struct worker *w, const char *job_id, const char *key, const char *type,
                   cJSON *data)
{
    char ttl[24];
    char *text = event_text(job_id, type, data);
    struct err e;

    cJSON_Delete(data);
    if (text == NULL)
        return;
    snprintf(ttl, sizeof ttl, "%ld", w->cfg->job_ttl_s);
    if (kv_async_eval(w->kv, &job_script_event, 1, 4, (const char *[]){key, ttl, type, text},
                      NULL, NULL, NULL, &e) != ERR_OK) {
        struct log_line l;
        log_begin(&l, LOG_DEBUG, "job_event_lost");
        log_str(&l, "job_id", job_id);
        log_str(&l, "type", type);
        log_errfields(&l, &e);
        log_end(&l);
    }
    free(text);
}

void progress_linted(struct worker *w, const char *job_id, const char *key,
                     const struct lint_result *lint)
{
    cJSON *d = cJSON_CreateObject(), *tools = cJSON_CreateArray();
    const cJSON *it;

    cJSON_AddNumberToObject(d, "findings", cJSON_GetArraySize(lint->findings));
    cJSON_ArrayForEach(it, lint->linters) {
        const char *st = json_str(it, "status"), *tool = json_str(it, "tool");
        if (st != NULL && tool != NULL && strcmp(st, "ok") == 0)
            cJSON_AddItemToArray(tools, cJSON_CreateString(tool));
    }
    cJSON_AddItemToObject(d, "linters", tools);
    progress_emit(w, job_id, key, "linted", d);
}

void progress_model_called(struct worker *w, const char *job_id, const char *key,
                           const struct model_out *m)
{
    cJSON *d = cJSON_CreateObject();

    cJSON_AddBoolToObject(d, "cached", m->cached);
    cJSON_AddNumberToObject(d, "tokens", (double)m->tokens);
    cJSON_AddNumberToObject(d, "findings", cJSON_GetArraySize(m->findings));
    cJSON_AddBoolToObject(d, "degraded", m->degraded);
    if (m->degraded)
        cJSON_AddStringToObject(d, "degraded_reason", m->degraded_reason);
    progress_emit(w, job_id, key, "model_called", d);
}
