/* job_cancel.c - DELETE /job/:id: its owner cancels a job (docs/pipeline.md,
 * "Cancelling a job").
 *
 * One script (job_cancel.lua) decides: a queued job is cancelled here and
 * now (its entry or parked deferral removed, its reservation released) and
 * stored in PostgreSQL; a running one is flagged and its worker told, and
 * the answer is 202 until the worker has ended it. */
#include "gateway/handlers.h"

#include "common/config.h"
#include "common/db.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/jobs.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stores a job cancelled from the queue unless PostgreSQL has it already
 * (its worker stored it, or an earlier call did): the view is the whole
 * job then, it never ran. */
#define CANCEL_SQL_SAVE \
    "SELECT ci_job_save($1::jsonb) WHERE NOT EXISTS " \
    "(SELECT 1 FROM jobs WHERE job_id = $2::uuid)"

static int store(struct request *req, const char *id, const cJSON *view, struct err *e)
{
    struct db *db = gateway_db(req->gw, e);
    char *doc, *out = NULL;
    int rc;

    if (db == NULL)
        return e->code;
    if ((doc = cJSON_PrintUnformatted(view)) == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    rc = db_query_value(db, CANCEL_SQL_SAVE, 2, (const char *[]){doc, id}, &out, e);
    free(doc);
    free(out);
    return rc;
}

/* Runs job_cancel.lua: *outcome and the job's view afterwards (owns; NULL
 * when the script found no hot copy). Returns an err code. */
static int cancel_script(struct request *req, const char *id, const char *type,
                         char outcome[16], cJSON **view, struct err *e)
{
    struct kv *kv = gateway_kv(req->gw, e);
    char key[JOB_KEY_MAX], eid[JOB_ENTRY_ID_MAX] = "", set[JOB_DEFERRED_KEY_MAX];
    char hold[JOB_DEFERRED_KEY_MAX], ttl[24];
    const char *stream = NULL, *group;
    cJSON *reply = NULL;
    const cJSON *o, *flat;
    int t = job_type_parse(type);

    *view = NULL;
    if (kv == NULL)
        return e->code;
    if (job_read_keys(id, key, &stream, eid) < 2 || stream == NULL)
        stream = job_stream_for(t < 0 ? JOB_REVIEW : (enum job_type)t);
    group = strcmp(stream, JOB_STREAM_HEAVY) == 0 ? JOB_GROUP_HEAVY : JOB_GROUP_FAST;
    job_deferred_set_key(stream, set);
    job_deferred_hold_key(id, hold);
    snprintf(ttl, sizeof ttl, "%ld", req->gw->cfg->job_ttl_s);
    if (kv_eval(kv, &job_script_cancel, 4, 9,
                (const char *[]){key, stream, set, hold, eid, group, ttl, id, JOB_CANCELLED_ERROR},
                NULL, &reply, e) != ERR_OK)
        return e->code;
    o = cJSON_GetArrayItem(reply, 0);
    flat = cJSON_GetArrayItem(reply, 1);
    if (!cJSON_IsString(o) || !cJSON_IsArray(flat)) {
        cJSON_Delete(reply);
        return err_set(e, ERR_PROTOCOL, "job_cancel.lua: unexpected reply");
    }
    snprintf(outcome, 16, "%s", o->valuestring);
    *view = job_view_from_hash(id, flat);
    cJSON_Delete(reply);
    return ERR_OK;
}

static void log_cancel(const struct request *req, const char *id, const char *outcome)
{
    struct log_line l;

    log_begin(&l, LOG_INFO, "job_cancel");
    log_str(&l, "request_id", req->request_id);
    log_str(&l, "job_id", id);
    log_str(&l, "user_id", req->who.user_id);
    log_str(&l, "outcome", outcome);
    log_end(&l);
}

/* A view of a job that will not run: 200 once PostgreSQL has it. */
static void respond_cancelled(struct request *req, const char *id, cJSON *view)
{
    struct err e;

    err_clear(&e);
    if (store(req, id, view, &e) != ERR_OK) {
        /* Cancelled all the same: a retry finds it so and stores it. */
        cJSON_Delete(view);
        gate_respond_error(req, &e);
        return;
    }
    respond_json(req, 200, view);
}

void handle_job_cancel(struct request *req)
{
    const char *id = req->param;    /* lower-cased by the server (ROUTE_JOB) */
    char outcome[16], type[16];
    const char *status;
    struct err e;
    cJSON *view, *extra;
    int hot = 0;

    err_clear(&e);
    if (!jobs_id_or_respond(req, id) || (view = jobs_view_or_respond(req, id, &hot)) == NULL)
        return;
    snprintf(type, sizeof type, "%s", json_str(view, "type") ? json_str(view, "type") : "");
    if (hot) {
        /* Owned: now decide, atomically, from the hot copy. */
        cJSON_Delete(view);
        if (cancel_script(req, id, type, outcome, &view, &e) != ERR_OK) {
            gate_respond_error(req, &e);
            return;
        }
        log_cancel(req, id, outcome);
        if (view == NULL) {
            err_set(&e, ERR_JOB_NOT_FOUND, "no job %s", id);
            respond_error(req, &e);
            return;
        }
        if (strcmp(outcome, "requested") == 0) {
            respond_header(req, "Retry-After", "1");
            respond_json(req, 202, view);
            return;
        }
    }
    status = json_str(view, "status");
    if (status != NULL && strcmp(status, "cancelled") == 0) {
        respond_cancelled(req, id, view);
        return;
    }
    /* Done or failed (from PostgreSQL, the hot copy expired: so is any
     * job stored there but a cancelled one). */
    err_set(&e, ERR_JOB_FINISHED, "the job is %s: only a queued or running job can be "
            "cancelled", status ? status : "finished");
    extra = cJSON_CreateObject();
    if (extra != NULL && status != NULL)
        cJSON_AddStringToObject(extra, "job_status", status);
    cJSON_Delete(view);
    respond_error_with(req, &e, extra);
}
