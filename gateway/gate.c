/* gate.c - identity + bucket for every authenticated route. */
#include "gateway/gate.h"

#include "common/clock.h"
#include "common/decimal.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/ident_cache.h"
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

/* Sets header name to n (negative shows as 0). */
static void count_header(struct request *req, const char *name, long n)
{
    char v[DECIMAL_MAX + 1];

    v[decimal_put(v, n < 0 ? 0 : (uint64_t)n)] = '\0';
    respond_header(req, name, v);
}

void gate_rate_headers(struct request *req, long limit, long remaining, long reset)
{
    count_header(req, "RateLimit-Limit", limit);
    count_header(req, "RateLimit-Remaining", remaining);
    count_header(req, "RateLimit-Reset", reset);
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

int gate_limited(struct request *req, const cJSON *reply, int from, const char *what,
                 struct err *e)
{
    char retry[24];
    long wait_s = gate_reply_num(reply, from + 3);

    gate_rate_headers(req, gate_reply_num(reply, from), gate_reply_num(reply, from + 1),
                      gate_reply_num(reply, from + 2));
    snprintf(retry, sizeof retry, "%ld", wait_s);
    respond_header(req, "Retry-After", retry);
    return err_set(e, ERR_RATE_LIMITED, "%s; retry in %ld s", what, wait_s);
}

int gate_buckets(struct request *req, int n, const char *const *keys, const struct rate *rates,
                 const char *what, struct err *e)
{
    const char *argv[3 * GATE_BUCKETS_MAX];
    char num[2 * GATE_BUCKETS_MAX][24];
    struct kv *kv;
    cJSON *r = NULL;
    int argc = 0, allowed;

    if (n < 1 || n > GATE_BUCKETS_MAX) {
        err_set(e, ERR_INTERNAL, "gate_buckets: %d buckets", n);
        return -1;
    }
    for (int i = 0; i < n; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < n; i++) {
        snprintf(num[2 * i], sizeof num[0], "%.6g", rates[i].burst);
        snprintf(num[2 * i + 1], sizeof num[0], "%.6g", rates[i].per_min);
        argv[argc++] = num[2 * i];
        argv[argc++] = num[2 * i + 1];
    }
    if ((kv = gateway_kv(req->gw, e)) == NULL ||
        kv_eval(kv, &job_script_ratelimit, n, argc, argv, NULL, &r, e) != ERR_OK)
        return -1;
    /* Reply: {allowed, limit, remaining, reset, retry_after}. */
    allowed = gate_reply_num(r, 0) != 0;
    if (!allowed)
        gate_limited(req, r, 1, what, e);
    else
        gate_rate_headers(req, gate_reply_num(r, 1), gate_reply_num(r, 2), gate_reply_num(r, 3));
    cJSON_Delete(r);
    return allowed;
}

int gate_refusal_or_respond(struct request *req, const struct identity *id, const cJSON *reply)
{
    const char *st = gate_reply_status(reply);
    struct err e;

    if (strcmp(st, "revoked") == 0) {
        err_set(&e, ERR_REVOKED_API_KEY, "this API key was revoked");
        auth_respond_401(req, &e);
        return 1;
    }
    if (strcmp(st, "unknown") == 0) {
        auth_unknown_error(id, &e);
        auth_respond_401(req, &e);
        return 1;
    }
    if (strcmp(st, "limited") == 0) {
        gate_limited(req, reply, 1, "rate limit reached", &e);
        respond_error(req, &e);
        return 1;
    }
    return 0;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* The identity a local or scripted admission established. */
static void take_identity(struct identity *id, const struct idc_admitted *a)
{
    copy(id->user_id, sizeof id->user_id, a->user_id);
    copy(id->key_id, sizeof id->key_id, a->key_id);
    copy(id->email, sizeof id->email, a->email);
    copy(id->plan, sizeof id->plan, a->plan);
    id->is_operator = a->is_operator;
}

/* Admitted by the gateway's own copy: the job to read, if any, costs one
 * job_read call. Returns 0, or answers 503 and returns -1. */
static int read_alone(struct request *req, const char *read_job)
{
    struct err e;
    struct kv *kv;

    if (read_job == NULL)
        return 0;
    if ((kv = gateway_kv(req->gw, &e)) == NULL ||
        job_read(kv, read_job, &req->prefetched, &e) != ERR_OK) {
        if (e.code == ERR_PROTOCOL)
            err_set(&e, ERR_REDIS_UNAVAILABLE, "cannot read the job");
        gate_respond_error(req, &e);
        return -1;
    }
    return 0;
}

int gate_or_respond(struct request *req, enum route_class rc, struct identity *id,
                    const char *read_job)
{
    struct err e;
    const char *cls = plans_class_str(rc);
    struct idc_admitted a;
    struct idc_ask ask;
    int64_t now = clock_mono_ms();
    char key[JOB_KEY_MAX], eid[JOB_ENTRY_ID_MAX];
    const char *stream = NULL;
    int read_keys = 0;              /* the job's hash[, its stream] */

    if (auth_parse_or_respond(req, id) != 0)
        return -1;
    if (idc_admit(req->gw->idents, id->cache_key, rc, now, &a, &ask)) {
        take_identity(id, &a);
        gate_rate_headers(req, a.limit, a.remaining, a.reset);
        return read_alone(req, read_job);
    }
    if (read_job != NULL)
        read_keys = job_read_keys(read_job, key, &stream, eid);
    /* A cache miss is filled and retried once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct kv *kv = gateway_kv(req->gw, &e);
        cJSON *r = NULL;
        const char *st;
        char want[24];
        int miss;
        /* keys: identity[, job hash[, stream]]; then class, want, identity
         * wanted[, entry id] (gate.lua) */
        const char *argv[7] = {id->cache_key, key, stream};
        int argc = 1 + read_keys;

        snprintf(want, sizeof want, "%ld", ask.want);
        argv[argc++] = cls;
        argv[argc++] = want;
        argv[argc++] = ask.want_identity ? "1" : "0";
        if (read_keys == 2)
            argv[argc++] = eid;
        if (kv == NULL ||
            kv_eval(kv, &job_script_gate, 1 + read_keys, argc, argv, NULL, &r, &e) != ERR_OK) {
            if (e.code == ERR_PROTOCOL)
                err_set(&e, ERR_REDIS_UNAVAILABLE, "admission script failed");
            gate_respond_error(req, &e);
            return -1;
        }
        st = gate_reply_status(r);
        if (strcmp(st, "ok") == 0) {
            const cJSON *flat = cJSON_GetArrayItem(r, 10);
            copy(id->user_id, sizeof id->user_id, gate_reply_str(r, 1));
            copy(id->key_id, sizeof id->key_id, gate_reply_str(r, 2));
            copy(id->email, sizeof id->email, gate_reply_str(r, 3));
            copy(id->plan, sizeof id->plan, gate_reply_str(r, 4));
            id->is_operator = strcmp(gate_reply_str(r, 11), "1") == 0;
            idc_record(req->gw->idents, id->cache_key, ask.gen,
                       cJSON_IsArray(flat) ? flat : NULL, rc, gate_reply_num(r, 9),
                       gate_reply_num(r, 5), gate_reply_num(r, 6), gate_reply_num(r, 7), now, &a);
            gate_rate_headers(req, a.limit, a.remaining, a.reset);
            if (read_job != NULL && cJSON_IsArray(cJSON_GetArrayItem(r, 8)))
                req->prefetched = cJSON_DetachItemFromArray(r, 8);
            cJSON_Delete(r);
            return 0;
        }
        if (strcmp(st, "revoked") == 0)
            idc_forget(req->gw->idents, id->cache_key);
        if (gate_refusal_or_respond(req, id, r)) {
            cJSON_Delete(r);
            return -1;
        }
        miss = strcmp(st, "miss") == 0;
        cJSON_Delete(r);
        if (!miss || attempt > 0 || req->filled)
            break;
        /* PostgreSQL is asked on a waiting thread only: a request thread
         * hands the request over (GATE_MISS), and runs it again after. */
        if (!req->waits)
            return GATE_MISS;
        if (auth_fill_cache(req, id, &e) != ERR_OK) {
            gate_respond_error(req, &e);
            return -1;
        }
    }
    err_set(&e, ERR_INTERNAL, "identity cache did not settle");
    respond_error(req, &e);
    return -1;
}
