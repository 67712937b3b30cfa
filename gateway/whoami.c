/* whoami.c - GET /whoami: identity (the operator role too), plan limits, and
 * this month's usage. */
#include "gateway/handlers.h"

#include "common/budget.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/db.h"
#include "common/err.h"
#include "common/kv.h"
#include "common/plans.h"
#include "gateway/auth.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdlib.h>

/* used and reserved tokens; from Redis, or the ledger when Redis has none,
 * or when its 'used' is stale (schema/redis/lib/budget.lua). */
static int usage(struct request *req, const char *user_id, const char *month, int64_t *used,
                 int64_t *reserved, struct err *e)
{
    struct kv *kv = gateway_kv(req->gw, e);
    char key[BUDGET_KEY_MAX];
    cJSON *r = NULL;
    struct db *db;

    *used = *reserved = 0;
    budget_key(user_id, month, key);
    if (kv != NULL && kv_call(kv, 5, (const char *[]){"HMGET", key, "used", "reserved", "stale"},
                              NULL, &r, e) == ERR_OK) {
        const cJSON *u = cJSON_GetArrayItem(r, 0), *s = cJSON_GetArrayItem(r, 1);
        if (cJSON_IsString(s))
            *reserved = strtoll(s->valuestring, NULL, 10);
        if (cJSON_IsString(u) && !cJSON_IsString(cJSON_GetArrayItem(r, 2))) {
            *used = strtoll(u->valuestring, NULL, 10);
            cJSON_Delete(r);
            return ERR_OK;
        }
    }
    cJSON_Delete(r);
    if ((db = gateway_db(req->gw, e)) == NULL)
        return e->code;
    return budget_ledger_used(db, user_id, month, used, e);
}

void handle_whoami(struct request *req)
{
    const struct identity *who = &req->who;
    struct err e;
    char month[BUDGET_MONTH_LEN];
    int64_t used, reserved;
    const struct plan_limits *lim;
    double scale = (double)req->gw->cfg->rate_limit_scale_pct / 100.0;
    cJSON *b, *limits, *u;
    int p;

    budget_month(clock_now_ms(), month);
    if (usage(req, who->user_id, month, &used, &reserved, &e) != ERR_OK) {
        gate_respond_error(req, &e);
        return;
    }
    p = plans_parse(who->plan);
    lim = plans_get(p < 0 ? PLAN_LITE : (enum plan)p);

    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "user_id", who->user_id);
    cJSON_AddStringToObject(b, "email", who->email);
    cJSON_AddStringToObject(b, "plan", lim->name);
    cJSON_AddBoolToObject(b, "operator", who->is_operator);
    limits = cJSON_AddObjectToObject(b, "limits");
    for (int c = 0; c < RC__COUNT; c++) {
        cJSON *o = cJSON_AddObjectToObject(limits, plans_class_str((enum route_class)c));
        cJSON_AddNumberToObject(o, "rate_per_min", lim->rate[c].per_min * scale);
        cJSON_AddNumberToObject(o, "burst", lim->rate[c].burst * scale);
    }
    cJSON_AddNumberToObject(limits, "tokens_per_month", (double)lim->tokens_per_month);
    u = cJSON_AddObjectToObject(b, "usage");
    cJSON_AddNumberToObject(u, "tokens_used", (double)used);
    cJSON_AddNumberToObject(u, "tokens_reserved", (double)reserved);
    cJSON_AddStringToObject(u, "month", month);
    cJSON_AddBoolToObject(
        b, "soft_throttled",
        (used + reserved) * 100 >= lim->tokens_per_month * PLANS_SOFT_THROTTLE_PCT);
    cJSON_AddBoolToObject(b, "degraded", used + reserved >= lim->tokens_per_month);
    respond_json(req, 200, b);
}
