/* health.c - liveness and readiness probes. */
#include "gateway/handlers.h"

#include "common/db.h"
#include "common/err.h"
#include "common/kv.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

void handle_healthz(struct request *req)
{
    cJSON *b = cJSON_CreateObject();

    if (b != NULL)
        cJSON_AddStringToObject(b, "status", "ok");
    respond_json(req, 200, b);
}

void handle_readyz(struct request *req)
{
    struct err e;
    struct kv *kv = gateway_kv(req->gw, &e);
    struct err pg_e;
    struct db *db;
    int redis_ok = 0, pg_ok = 0, outdated;
    cJSON *checks = cJSON_CreateObject(), *body;

    if (kv != NULL) {
        cJSON *r = NULL;
        redis_ok = kv_call(kv, 1, (const char *[]){"PING"}, NULL, &r, &e) == ERR_OK;
        cJSON_Delete(r);
    }
    db = gateway_db(req->gw, &pg_e);
    pg_ok = db != NULL && db_ping(db, &pg_e) == ERR_OK;
    outdated = db == NULL && gateway_db_outdated(req->gw);
    cJSON_AddStringToObject(checks, "redis", redis_ok ? "ok" : "down");
    cJSON_AddStringToObject(checks, "postgres",
                            pg_ok ? "ok" : outdated ? "schema_outdated" : "down");

    /* Without Redis nothing is admitted: not ready. Without PostgreSQL the
     * identities already seen are served from their Redis copies and jobs
     * go on (docs/operations.md, "Failure behaviour"), so the gateway stays
     * in its load balancer, degraded: every replica shares the one
     * database, and a 503 here would take them all out at once. A schema
     * older than this build needs is not an outage but a release rolled out
     * before its migrations: not ready, so that the replicas of the older
     * build (which accept the schema) keep the traffic. */
    if (redis_ok && !outdated) {
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "status", pg_ok ? "ready" : "degraded");
        cJSON_AddItemToObject(body, "checks", checks);
        respond_json(req, 200, body);
        return;
    }
    if (redis_ok)
        err_set(&e, ERR_NOT_READY, "%s", pg_e.msg);
    else
        err_set(&e, ERR_NOT_READY, "redis%s unreachable", pg_ok || outdated ? "" : " and postgres");
    body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "checks", checks);
    respond_header(req, "Retry-After", "5");
    respond_error_with(req, &e, body);
}
