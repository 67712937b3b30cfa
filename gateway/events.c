/* events.c - the events thread: Redis pub/sub and heartbeats to subs.c. */
#include "gateway/events.h"

#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/kv_async.h"
#include "common/log.h"
#include "common/loop.h"
#include "gateway/ident_cache.h"
#include "gateway/subs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the thread looks at its stop flag, ms (bounds events_stop). */
#define EVENTS_STOP_POLL_MS 200
/* Wait before a failed catch-up is tried again, ms. */
#define EVENTS_CATCHUP_RETRY_MS 1000
/* Longest message accepted from the channel, bytes. */
#define EVENTS_MESSAGE_MAX (36 + 1 + SSE_ID_MAX + 1 + SSE_TYPE_MAX + 1 + SSE_DATA_MAX)

struct events {
    struct subs *subs;                  /* borrowed */
    struct loop *loop;
    struct kv_async *sub;               /* subscribed: messages only */
    struct kv_async *cmd;               /* XRANGE for catching up */
    struct kv_async *auth;              /* subscribed to IDC_CHANNEL; NULL without idents */
    struct idc *idents;                 /* borrowed */
    struct loop_timer *heartbeat;
    struct loop_timer *stop_poll;
    struct loop_timer *catchup_retry;
    pthread_t thread;
    int stopping;                       /* atomic: set by events_stop */
    long max_jobs;
    char (*jobs)[40];                   /* catch-up scratch: max_jobs job ids */
    struct sse_id *from;                /* and the id each job resumes after */
};

/* One job's catch-up read. */
struct catchup {
    struct events *ev;
    char job_id[40];
};

/* The SSE frame of one event, or NULL when a part of it is not one we
 * would have written (the stream entry and the channel message alike). */
static char *checked_frame(const char *eid, const char *type, const char *data,
                           struct sse_id *id, size_t *len, int *final)
{
    size_t tlen;

    if (eid == NULL || type == NULL || data == NULL || sse_id_parse(eid, id) != 0)
        return NULL;
    tlen = strlen(type);
    if (tlen == 0 || tlen > SSE_TYPE_MAX || strcspn(type, " \r\n:") != tlen ||
        strlen(data) > SSE_DATA_MAX)
        return NULL;
    *final = sse_type_final(type);
    return sse_frame(eid, type, data, len);
}

char *events_entry_frame(const cJSON *entry, struct sse_id *id, size_t *len, int *final)
{
    const cJSON *eid = cJSON_GetArrayItem(entry, 0), *fields = cJSON_GetArrayItem(entry, 1), *it;
    const char *type = NULL, *data = NULL;

    if (!cJSON_IsString(eid) || !cJSON_IsArray(fields))
        return NULL;
    for (it = fields ? fields->child : NULL; it != NULL && it->next != NULL; it = it->next->next) {
        if (!cJSON_IsString(it) || !cJSON_IsString(it->next))
            continue;
        if (strcmp(it->valuestring, "type") == 0)
            type = it->next->valuestring;
        else if (strcmp(it->valuestring, "data") == 0)
            data = it->next->valuestring;
    }
    return checked_frame(eid->valuestring, type, data, id, len, final);
}

/* "<job id> <entry id> <type> <json>" -> the job's streams. */
static void on_message(void *arg, const char *payload, size_t len);

static void catch_up(struct events *ev);

static void on_catchup_retry(void *arg)
{
    catch_up(arg);
}

static void catchup_failed(struct events *ev, const struct err *e)
{
    struct log_line l;

    log_begin(&l, LOG_WARN, "events_catchup_failed");
    log_errfields(&l, e);
    log_end(&l);
    loop_timer_start(ev->catchup_retry, EVENTS_CATCHUP_RETRY_MS, 0);
}

static void on_catchup(void *arg, cJSON *reply, const struct err *e)
{
    struct catchup *c = arg;
    struct events *ev = c->ev;
    const cJSON *entry;

    if (e->code != ERR_OK) {
        catchup_failed(ev, e);
        free(c);
        return;
    }
    cJSON_ArrayForEach(entry, reply) {
        struct sse_id id;
        size_t len;
        int final;
        char *frame = events_entry_frame(entry, &id, &len, &final);
        if (frame == NULL)
            continue;
        subs_resync_event(ev->subs, c->job_id, &id, frame, len, final);
        free(frame);
    }
    subs_resync_end(ev->subs, c->job_id);
    free(c);
}

/* Every job with streams re-reads what it may have missed. */
static void catch_up(struct events *ev)
{
    int n = subs_resync_begin(ev->subs, ev->jobs, ev->from, (int)ev->max_jobs);
    struct err e;

    for (int i = 0; i < n; i++) {
        struct catchup *c = calloc(1, sizeof *c);
        char key[JOB_EVENTS_KEY_MAX], start[SSE_ID_MAX + 2];

        if (ev->from[i].ms == UINT64_MAX && ev->from[i].seq == UINT64_MAX) {
            /* Nothing follows the greatest id (a client's Last-Event-ID may
             * be it), and Redis refuses it as an exclusive start: a read
             * would fail, and the catch-up of every stream with it, again
             * each second. */
            free(c);
            subs_resync_end(ev->subs, ev->jobs[i]);
            continue;
        }
        if (c == NULL) {
            err_set(&e, ERR_INTERNAL, "out of memory");
            catchup_failed(ev, &e);
            return;
        }
        c->ev = ev;
        snprintf(c->job_id, sizeof c->job_id, "%s", ev->jobs[i]);
        snprintf(key, sizeof key, JOB_EVENTS_KEY_PREFIX "%.36s", ev->jobs[i]);
        start[0] = '(';
        sse_id_str(&ev->from[i], start + 1);
        if (kv_async_call(ev->cmd, 6,
                          (const char *[]){"XRANGE", key, start, "+", "COUNT",
                                           JOB_EVENTS_READ_MAX},
                          NULL, on_catchup, c, &e) != ERR_OK) {
            free(c);
            catchup_failed(ev, &e);
            return;
        }
    }
    if (n > 0) {
        struct log_line l;
        log_begin(&l, LOG_INFO, "events_catchup");
        log_int(&l, "jobs", n);
        log_end(&l);
    }
}

static void on_message(void *arg, const char *payload, size_t len)
{
    struct events *ev = arg;
    char msg[EVENTS_MESSAGE_MAX + 1], *job, *eid, *type, *data, *frame;
    struct sse_id id;
    size_t flen;
    int final;

    if (payload == NULL) {
        /* Subscribed (again): whatever happened meanwhile is in the streams. */
        catch_up(ev);
        return;
    }
    if (len > EVENTS_MESSAGE_MAX || memchr(payload, '\0', len) != NULL)
        return;
    memcpy(msg, payload, len);
    msg[len] = '\0';
    job = msg;
    if ((eid = strchr(job, ' ')) == NULL)
        return;
    *eid++ = '\0';
    if ((type = strchr(eid, ' ')) == NULL)
        return;
    *type++ = '\0';
    if ((data = strchr(type, ' ')) == NULL)
        return;
    *data++ = '\0';
    if (strlen(job) >= 40 || (frame = checked_frame(eid, type, data, &id, &flen, &final)) == NULL)
        return;
    /* subs.c counts the streams it really queues the event to. */
    subs_publish(ev->subs, job, &id, frame, flen, final);
    free(frame);
}

/* A revoked identity's cache key; NULL: (re)subscribed, anything missed. */
static void on_auth_message(void *arg, const char *payload, size_t len)
{
    struct events *ev = arg;
    char key[128];

    if (payload == NULL) {
        idc_clear(ev->idents);
        return;
    }
    if (len >= sizeof key)
        return;
    memcpy(key, payload, len);
    key[len] = '\0';
    idc_forget(ev->idents, key);
}

static void on_auth_state(void *arg, int connected)
{
    struct events *ev = arg;

    /* Disconnected, a revocation can be missed: copies go now, and again
     * once subscribed (on_auth_message with NULL). */
    if (!connected)
        idc_clear(ev->idents);
}

static void on_heartbeat(void *arg)
{
    struct events *ev = arg;

    subs_heartbeat(ev->subs);
}

static void on_stop_poll(void *arg)
{
    struct events *ev = arg;

    if (!__atomic_load_n(&ev->stopping, __ATOMIC_ACQUIRE))
        return;
    kv_async_free(ev->sub);
    kv_async_free(ev->cmd);
    kv_async_free(ev->auth);
    ev->sub = ev->cmd = ev->auth = NULL;
    loop_timer_free(ev->heartbeat);
    loop_timer_free(ev->stop_poll);
    loop_timer_free(ev->catchup_retry);
    loop_stop(ev->loop);
}

static void *events_main(void *arg)
{
    struct events *ev = arg;

    loop_run(ev->loop);
    return NULL;
}

static void events_free(struct events *ev)
{
    loop_free(ev->loop);
    free(ev->jobs);
    free(ev->from);
    free(ev);
}

struct events *events_start(const struct kv_url *url, struct subs *subs, struct idc *idents,
                            long heartbeat_s, long max_jobs, struct err *e)
{
    struct events *ev = calloc(1, sizeof *ev);

    err_clear(e);
    if (ev == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    ev->subs = subs;
    ev->idents = idents;
    ev->max_jobs = max_jobs;
    ev->jobs = calloc((size_t)max_jobs, sizeof *ev->jobs);
    ev->from = calloc((size_t)max_jobs, sizeof *ev->from);
    if (ev->jobs == NULL || ev->from == NULL || (ev->loop = loop_new(e)) == NULL) {
        if (ev->jobs == NULL || ev->from == NULL)
            err_set(e, ERR_INTERNAL, "out of memory");
        events_free(ev);
        return NULL;
    }
    ev->heartbeat = loop_timer_new(ev->loop, on_heartbeat, ev);
    ev->stop_poll = loop_timer_new(ev->loop, on_stop_poll, ev);
    ev->catchup_retry = loop_timer_new(ev->loop, on_catchup_retry, ev);
    if (ev->heartbeat == NULL || ev->stop_poll == NULL || ev->catchup_retry == NULL ||
        (ev->cmd = kv_async_new(ev->loop, url, "events", NULL, NULL, e)) == NULL ||
        (ev->sub = kv_async_new(ev->loop, url, "events-sub", NULL, NULL, e)) == NULL ||
        kv_async_subscribe(ev->sub, JOB_EVENTS_CHANNEL, on_message, ev, e) != ERR_OK ||
        (idents != NULL &&
         ((ev->auth = kv_async_new(ev->loop, url, "auth-sub", on_auth_state, ev, e)) == NULL ||
          kv_async_subscribe(ev->auth, IDC_CHANNEL, on_auth_message, ev, e) != ERR_OK))) {
        if (e->code == ERR_OK)
            err_set(e, ERR_INTERNAL, "out of memory");
        kv_async_free(ev->cmd);
        kv_async_free(ev->sub);
        kv_async_free(ev->auth);
        events_free(ev);
        return NULL;
    }
    loop_timer_start(ev->heartbeat, (uint64_t)heartbeat_s * 1000, (uint64_t)heartbeat_s * 1000);
    loop_timer_start(ev->stop_poll, EVENTS_STOP_POLL_MS, EVENTS_STOP_POLL_MS);
    if (pthread_create(&ev->thread, NULL, events_main, ev) != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the events thread");
        kv_async_free(ev->sub);
        kv_async_free(ev->cmd);
        kv_async_free(ev->auth);
        events_free(ev);
        return NULL;
    }
    return ev;
}

void events_stop(struct events *ev)
{
    if (ev == NULL)
        return;
    __atomic_store_n(&ev->stopping, 1, __ATOMIC_RELEASE);
    pthread_join(ev->thread, NULL);
    events_free(ev);
}
