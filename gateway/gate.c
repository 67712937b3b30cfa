/* gate.c - identity + bucket for every authenticated route. */
#include "gateway/gate.h"

#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdio.h>
#include <string.h>

/* Seconds a client should wait when a dependency is down. */
#define GATE_RETRY_AFTER "2"

const char *gate_reply_status(const cJSON *reply)
{
    const cJSON *s = cJSON_GetArrayItem(reply, 0);
    return cJSON_IsString(s) ? s->valuestring : "";
}

long gate_reply_num(const cJSON *reply, int i)
{
    const cJSON *v = cJSON_GetArrayItem(reply, i);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

const char *gate_reply_str(const cJSON *reply, int i)
{
    const cJSON *v = cJSON_GetArrayItem(reply, i);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void gate_rate_headers(struct request *req, long limit, long remaining, long reset)
{
    char v[24];

    snprintf(v, sizeof v, "%ld", limit);
    respond_header(req, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%ld", remaining < 0 ? 0 : remaining);
    respond_header(req, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%ld", reset < 0 ? 0 : reset);
    respond_header(req, "RateLimit-Reset", v);
}

void gate_respond_error(struct request *req, const struct err *e)
{
    if (err_http_status(e->code) == 401) {
        auth_respond_401(req, e);
        return;
    }
    if (err_http_status(e->code) == 503)
        respond_header(req, "Retry-After", GATE_RETRY_AFTER);
    respond_error(req, e);
}

int gate_refusal_or_respond(struct request *req, const cJSON *reply)
{
    const char *st = gate_reply_status(reply);
    struct err e;
    char retry[24];

    if (strcmp(st, "revoked") == 0) {
        err_set(&e, ERR_REVOKED_API_KEY, "this API key was revoked");
        auth_respond_401(req, &e);
        return 1;
    }
    if (strcmp(st, "limited") == 0) {
        gate_rate_headers(req, gate_reply_num(reply, 1), gate_reply_num(reply, 2),
                          gate_reply_num(reply, 3));
        snprintf(retry, sizeof retry, "%ld", gate_reply_num(reply, 4));
        respond_header(req, "Retry-After", retry);
        err_set(&e, ERR_RATE_LIMITED, "rate limit reached; retry in %ld s",
                gate_reply_num(reply, 4));
        respond_error(req, &e);
        return 1;
    }
    return 0;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

int gate_or_respond(struct request *req, enum route_class rc, struct identity *id,
                    const char *read_key)
{
    struct err e;
    const char *cls = plans_class_str(rc);

    if (auth_parse_or_respond(req, id) != 0)
        return -1;
    /* A cache miss is filled and retried once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct kv *kv = gateway_kv(req->gw, &e);
        cJSON *r = NULL;
        const char *st;
        int miss;

        if (kv == NULL ||
            kv_eval(kv, &job_script_gate, read_key ? 2 : 1, read_key ? 3 : 2,
                    read_key ? (const char *[]){id->cache_key, read_key, cls}
                             : (const char *[]){id->cache_key, cls},
                    NULL, &r, &e) != ERR_OK) {
            if (e.code == ERR_PROTOCOL)
                err_set(&e, ERR_REDIS_UNAVAILABLE, "admission script failed");
            gate_respond_error(req, &e);
            return -1;
        }
        st = gate_reply_status(r);
        if (strcmp(st, "ok") == 0) {
            copy(id->user_id, sizeof id->user_id, gate_reply_str(r, 1));
            copy(id->key_id, sizeof id->key_id, gate_reply_str(r, 2));
            copy(id->email, sizeof id->email, gate_reply_str(r, 3));
            copy(id->plan, sizeof id->plan, gate_reply_str(r, 4));
            gate_rate_headers(req, gate_reply_num(r, 5), gate_reply_num(r, 6),
                              gate_reply_num(r, 7));
            if (read_key != NULL && cJSON_IsArray(cJSON_GetArrayItem(r, 8)))
                req->prefetched = cJSON_DetachItemFromArray(r, 8);
            cJSON_Delete(r);
            return 0;
        }
        if (gate_refusal_or_respond(req, r)) {
            cJSON_Delete(r);
            return -1;
        }
        miss = strcmp(st, "miss") == 0;
        cJSON_Delete(r);
        if (!miss || attempt > 0)
            break;
        if (auth_fill_cache(req, id, &e) != ERR_OK) {
            gate_respond_error(req, &e);
            return -1;
        }
    }
    err_set(&e, ERR_INTERNAL, "identity cache did not settle");
    respond_error(req, &e);
    return -1;
}
