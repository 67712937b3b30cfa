/* queue.c - stream snapshots (queue_info.lua), the drain-rate arithmetic,
 * and GET /queue/info. */
#include "gateway/queue.h"

#include "common/config.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/handlers.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *stream, *group, *pool;
} streams[QUEUE_STREAMS] = {
    {JOB_STREAM_FAST, JOB_GROUP_FAST, "fast"},
    {JOB_STREAM_HEAVY, JOB_GROUP_HEAVY, "heavy"},
};

const char *queue_stream_name(int i)
{
    return i >= 0 && i < QUEUE_STREAMS ? streams[i].stream : "";
}

static long long num_at(const cJSON *a, int i)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);

    if (cJSON_IsNumber(v))
        return (long long)v->valuedouble;
    if (cJSON_IsString(v))
        return strtoll(v->valuestring, NULL, 10);
    return 0;
}

/* Fills the per-minute counts and the span they cover. */
static void fill_window(struct queue_snapshot *q, const cJSON *done)
{
    double into_minute = (double)(q->now_ms % 60000) / 1000.0;

    q->done_window = 0;
    for (int m = 0; m < QUEUE_WINDOW_MIN; m++) {
        q->done[m] = num_at(done, m);
        if (q->done[m] < 0)
            q->done[m] = 0;
        q->done_window += q->done[m];
    }
    q->window_s = (QUEUE_WINDOW_MIN - 1) * 60.0 + into_minute;
    if (q->window_s < 1)
        q->window_s = 1;
}

static void fill_consumers(struct queue_snapshot *q, const cJSON *flat)
{
    int n = cJSON_GetArraySize(flat);

    q->n_listed = 0;
    for (int i = 0; i + 2 < n && q->n_listed < QUEUE_CONSUMERS_MAX; i += 3) {
        struct queue_consumer *c = &q->listed[q->n_listed];
        const cJSON *name = cJSON_GetArrayItem(flat, i);
        snprintf(c->name, sizeof c->name, "%s", cJSON_IsString(name) ? name->valuestring : "");
        c->pending = num_at(flat, i + 1);
        c->idle_ms = num_at(flat, i + 2);
        q->n_listed++;
    }
}

int queue_read(struct kv *kv, int i, struct queue_snapshot *out, struct err *e)
{
    char dead[96], deferred[JOB_DEFERRED_KEY_MAX], window[16], listed[16], idle[24];
    const cJSON *lag, *oldest;
    cJSON *r = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (i < 0 || i >= QUEUE_STREAMS)
        return err_set(e, ERR_INTERNAL, "queue_read: no stream %d", i);
    out->stream = streams[i].stream;
    out->group = streams[i].group;
    out->pool = streams[i].pool;
    snprintf(dead, sizeof dead, "%s:dead", out->stream);
    job_deferred_set_key(out->stream, deferred);
    snprintf(window, sizeof window, "%d", QUEUE_WINDOW_MIN);
    snprintf(listed, sizeof listed, "%d", QUEUE_CONSUMERS_MAX);
    snprintf(idle, sizeof idle, "%d", QUEUE_ACTIVE_IDLE_MS);
    rc = kv_eval(kv, &job_script_queue_info, 3, 7,
                 (const char *[]){out->stream, dead, deferred, out->group, window, listed, idle},
                 NULL, &r, e);
    if (rc != ERR_OK)
        return rc;
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) < 12) {
        cJSON_Delete(r);
        return err_set(e, ERR_PROTOCOL, "redis: malformed queue_info reply");
    }
    out->now_ms = num_at(r, 0);
    out->length = num_at(r, 1);
    out->has_group = num_at(r, 2) != 0;
    out->pending = num_at(r, 3);
    lag = cJSON_GetArrayItem(r, 4);
    out->has_lag = cJSON_IsNumber(lag) || cJSON_IsString(lag);
    out->lag = out->has_lag ? num_at(r, 4) : 0;
    oldest = cJSON_GetArrayItem(r, 5);
    if (cJSON_IsString(oldest)) {
        long long ms = strtoll(oldest->valuestring, NULL, 10);
        snprintf(out->oldest_id, sizeof out->oldest_id, "%s", oldest->valuestring);
        out->oldest_age_s = ms > 0 && out->now_ms > ms ? (double)(out->now_ms - ms) / 1000.0 : 0;
    }
    out->dead_letters = num_at(r, 6);
    out->deferred = num_at(r, 7);
    fill_window(out, cJSON_GetArrayItem(r, 8));
    out->consumers_total = (int)num_at(r, 9);
    out->consumers_active = (int)num_at(r, 10);
    fill_consumers(out, cJSON_GetArrayItem(r, 11));
    cJSON_Delete(r);
    return ERR_OK;
}

double queue_rate_per_s(const struct queue_snapshot *q)
{
    return (double)q->done_window / q->window_s;
}

double queue_rate_per_worker_s(const struct queue_snapshot *q)
{
    /* Workers that completed jobs and then left still count as one. */
    return queue_rate_per_s(q) / (q->consumers_active > 0 ? q->consumers_active : 1);
}

long queue_recommended_workers(long long backlog, long long deferred, double rate_per_worker_s,
                               long target_s, int active)
{
    long n;

    if (backlog <= 0)
        n = 0;
    else if (rate_per_worker_s > 0 && target_s > 0)
        n = (long)ceil((double)backlog / (rate_per_worker_s * (double)target_s));
    else
        n = active > 1 ? active : 1;
    if (n < 1 && deferred > 0)
        n = 1;
    return n;
}

cJSON *queue_snapshot_json(const struct queue_snapshot *q, long target_s)
{
    cJSON *o = cJSON_CreateObject(), *cs, *per_min;
    double per_worker = queue_rate_per_worker_s(q);

    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "stream", q->stream);
    cJSON_AddStringToObject(o, "pool", q->pool);
    cJSON_AddStringToObject(o, "group", q->group);
    cJSON_AddBoolToObject(o, "group_exists", q->has_group);
    cJSON_AddNumberToObject(o, "length", (double)q->length);
    cJSON_AddNumberToObject(o, "pending", (double)q->pending);
    if (q->has_lag)
        cJSON_AddNumberToObject(o, "lag", (double)q->lag);
    else
        cJSON_AddNullToObject(o, "lag");
    if (q->oldest_id[0] != '\0') {
        cJSON_AddStringToObject(o, "oldest_pending_id", q->oldest_id);
        cJSON_AddNumberToObject(o, "oldest_pending_age_s", q->oldest_age_s);
    } else {
        cJSON_AddNullToObject(o, "oldest_pending_id");
        cJSON_AddNullToObject(o, "oldest_pending_age_s");
    }
    cJSON_AddNumberToObject(o, "dead_letters", (double)q->dead_letters);
    cJSON_AddNumberToObject(o, "deferred", (double)q->deferred);
    cJSON_AddNumberToObject(o, "consumers_total", q->consumers_total);
    cJSON_AddNumberToObject(o, "consumers_active", q->consumers_active);
    cs = cJSON_AddArrayToObject(o, "consumers");
    for (int i = 0; cs != NULL && i < q->n_listed; i++) {
        cJSON *c = cJSON_CreateObject();
        if (c == NULL)
            break;
        cJSON_AddStringToObject(c, "name", q->listed[i].name);
        cJSON_AddNumberToObject(c, "pending", (double)q->listed[i].pending);
        cJSON_AddNumberToObject(c, "idle_ms", (double)q->listed[i].idle_ms);
        cJSON_AddBoolToObject(c, "active", q->listed[i].idle_ms < QUEUE_ACTIVE_IDLE_MS);
        cJSON_AddItemToArray(cs, c);
    }
    per_min = cJSON_AddArrayToObject(o, "completed_by_minute");
    for (int m = 0; per_min != NULL && m < QUEUE_WINDOW_MIN; m++)
        cJSON_AddItemToArray(per_min, cJSON_CreateNumber((double)q->done[m]));
    cJSON_AddNumberToObject(o, "completed_in_window", (double)q->done_window);
    cJSON_AddNumberToObject(o, "window_s", q->window_s);
    cJSON_AddNumberToObject(o, "completed_per_min", queue_rate_per_s(q) * 60.0);
    if (per_worker > 0)
        cJSON_AddNumberToObject(o, "rate_per_worker_per_s", per_worker);
    else
        cJSON_AddNullToObject(o, "rate_per_worker_per_s");
    cJSON_AddNumberToObject(o, "recommended_workers",
                            (double)queue_recommended_workers(q->length, q->deferred, per_worker,
                                                              target_s, q->consumers_active));
    return o;
}

void handle_queue_info(struct request *req)
{
    long target = req->gw->cfg->target_drain_s;
    struct queue_snapshot q;
    struct err e;
    struct kv *kv = gateway_kv(req->gw, &e);
    cJSON *body = cJSON_CreateObject(), *streams_obj;

    if (body == NULL) {
        err_set(&e, ERR_INTERNAL, "out of memory");
        respond_error(req, &e);
        return;
    }
    cJSON_AddNumberToObject(body, "target_drain_s", (double)target);
    cJSON_AddNumberToObject(body, "active_idle_ms", QUEUE_ACTIVE_IDLE_MS);
    streams_obj = cJSON_AddObjectToObject(body, "streams");
    for (int i = 0; i < QUEUE_STREAMS; i++) {
        cJSON *s;
        if (kv == NULL || queue_read(kv, i, &q, &e) != ERR_OK) {
            cJSON_Delete(body);
            if (e.code == ERR_PROTOCOL)
                err_set(&e, ERR_REDIS_UNAVAILABLE, "the queue could not be read");
            gate_respond_error(req, &e);
            return;
        }
        s = queue_snapshot_json(&q, target);
        if (s == NULL) {
            cJSON_Delete(body);
            err_set(&e, ERR_INTERNAL, "out of memory");
            respond_error(req, &e);
            return;
        }
        cJSON_AddItemToObject(streams_obj, q.stream, s);
    }
    respond_json(req, 200, body);
}
