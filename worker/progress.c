/* progress.c - pipeline steps as live job events. */
#include "worker/progress.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv_async.h"
#include "common/log.h"
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>

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
