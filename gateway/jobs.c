/* jobs.c - GET /job/:id, from the Redis hot copy, else from PostgreSQL. */
#include "gateway/handlers.h"

#include "common/db.h"
#include "common/err.h"
#include "common/crypto.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/log.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <ctype.h>
#include <stdlib.h>

/* Returns the view (owns), NULL when absent; ERR_REDIS_UNAVAILABLE in e when
 * Redis could not be asked. */
static cJSON *job_from_redis(struct request *req, const char *id, struct err *e)
{
    struct kv *kv = gateway_kv(req->gw, e);
    char key[JOB_KEY_MAX];
    cJSON *flat = NULL, *view;

    if (kv == NULL)
        return NULL;
    job_key(id, key);
    if (kv_call(kv, 2, (const char *[]){"HGETALL", key}, NULL, &flat, e) != ERR_OK)
        return NULL;
    view = job_view_from_hash(id, flat);
    cJSON_Delete(flat);
    return view;
}

static cJSON *job_from_db(struct request *req, const char *id, struct err *e)
{
    struct db *db = gateway_db(req->gw, e);
    char *text = NULL;
    cJSON *view;

    if (db == NULL)
        return NULL;
    if (db_query_value(db, JOB_SQL_GET, 1, (const char *[]){id}, &text, e) != ERR_OK)
        return NULL;
    if (text == NULL)
        return NULL;
    view = cJSON_Parse(text);
    free(text);
    return view;
}

void handle_job_get(struct request *req)
{
    char id[CRYPTO_UUID_LEN];
    struct err e, redis_e;
    cJSON *view;

    err_clear(&e);
    err_clear(&redis_e);
    if (!crypto_uuid_valid(req->param)) {
        err_set(&e, ERR_JOB_NOT_FOUND, "no such job: job ids are UUIDs");
        respond_error(req, &e);
        return;
    }
    for (int i = 0; i < CRYPTO_UUID_LEN; i++)
        id[i] = (char)tolower((unsigned char)req->param[i]);

    view = job_from_redis(req, id, &redis_e);
    if (view == NULL) {
        if (redis_e.code != ERR_OK) {
            /* Reads survive a Redis outage through the record of truth. */
            struct log_line l;
            log_begin(&l, LOG_WARN, "job_read_fallback");
            log_str(&l, "request_id", req->request_id);
            log_errfields(&l, &redis_e);
            log_end(&l);
        }
        view = job_from_db(req, id, &e);
    }
    if (view != NULL) {
        respond_json(req, 200, view);
        return;
    }
    if (e.code == ERR_OK)
        err_set(&e, ERR_JOB_NOT_FOUND, "no job %s", id);
    respond_error(req, &e);
}
