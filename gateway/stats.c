/* stats.c - GET /stats: system-wide counts from PostgreSQL (ci_stats():
 * jobs by status and type, users, active API keys, this month's tokens and
 * cost) and the queue numbers from Redis. Figures over every user: the
 * route is AUTH_OPERATOR (routes.c), so only operators reach this. */
#include "gateway/handlers.h"

#include "common/budget.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "common/kv.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/queue.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdlib.h>

/* {"<stream>": {length, pending, lag, dead_letters, deferred}, ...} (owns),
 * or NULL with e set. */
static cJSON *queue_numbers(struct request *req, struct err *e)
{
    struct kv *kv = gateway_kv(req->gw, e);
    struct queue_snapshot q;
    cJSON *out;

    if (kv == NULL)
        return NULL;
    out = cJSON_CreateObject();
    if (out == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    for (int i = 0; i < QUEUE_STREAMS; i++) {
        cJSON *s;
        if (queue_read(kv, i, &q, e) != ERR_OK) {
            cJSON_Delete(out);
            if (e->code == ERR_PROTOCOL)
                err_set(e, ERR_REDIS_UNAVAILABLE, "the queue could not be read");
            return NULL;
        }
        s = cJSON_AddObjectToObject(out, q.stream);
        cJSON_AddNumberToObject(s, "length", (double)q.length);
        cJSON_AddNumberToObject(s, "pending", (double)q.pending);
        if (q.has_lag)
            cJSON_AddNumberToObject(s, "lag", (double)q.lag);
        else
            cJSON_AddNullToObject(s, "lag");
        cJSON_AddNumberToObject(s, "dead_letters", (double)q.dead_letters);
        cJSON_AddNumberToObject(s, "deferred", (double)q.deferred);
        cJSON_AddNumberToObject(s, "consumers_active", q.consumers_active);
    }
    return out;
}

void handle_stats(struct request *req)
{
    char month[BUDGET_MONTH_LEN];
    struct err e;
    struct db *db;
    cJSON *body, *queue;

    budget_month(clock_now_ms(), month);
    if ((db = gateway_db(req->gw, &e)) == NULL ||
        db_query_json(db, "SELECT ci_stats($1)", 1, (const char *[]){month}, &body, &e) !=
            ERR_OK) {
        gate_respond_error(req, &e);
        return;
    }
    if (body == NULL) {
        err_set(&e, ERR_INTERNAL, "malformed stats from postgres");
        respond_error(req, &e);
        return;
    }
    if ((queue = queue_numbers(req, &e)) == NULL) {
        cJSON_Delete(body);
        gate_respond_error(req, &e);
        return;
    }
    cJSON_AddItemToObject(body, "queue", queue);
    respond_json(req, 200, body);
}
