/* job_events.c - GET /job/:id/events: the caller's job as a text/event-stream
 * of its status changes and pipeline steps (docs/events.md).
 *
 * The stream is registered first (subs.h), then the job's stored events are
 * read (XRANGE jobev:<id>) and queued, then live events follow from the
 * events thread (events.h): none is lost between the two, none sent twice.
 * Without Last-Event-ID the stream starts with a "queued" event built from
 * the job's hot copy (id 0-1, before every stored one). A finished job's
 * stream ends after its final event; a job only left in PostgreSQL gets
 * that final event alone; a client that already has the final event gets
 * 204, which tells an EventSource to stop reconnecting.
 */
#include "gateway/handlers.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "gateway/events.h"
#include "gateway/gate.h"
#include "gateway/gateway.h"
#include "gateway/jobs.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/sse.h"
#include "gateway/subs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The reconnection delay suggested to clients, ms. */
#define JOB_EVENTS_RETRY_MS 3000
/* Seconds a refused client should wait. */
#define JOB_EVENTS_RETRY_AFTER "5"

#define CT_EVENT_STREAM "text/event-stream"

/* Milliseconds of an RFC 3339 time; 0 when it is not one. */
static int64_t rfc3339_ms(const char *s)
{
    int64_t ms;

    return clock_parse_rfc3339(s, &ms) == 0 ? ms : 0;
}

/* A frame built from the job's view, for the events the stream does not
 * hold: the first "queued", or the final one of a job whose stream is gone.
 * Returns it (owns) or NULL. */
static char *synth_frame(const cJSON *view, const struct sse_id *id, const char *type,
                         size_t *len)
{
    char idtext[SSE_ID_MAX + 1], *data, *frame;
    const char *status = json_str(view, "status");
    int queued = strcmp(type, "queued") == 0;
    cJSON *ev = cJSON_CreateObject();

    if (ev == NULL)
        return NULL;
    cJSON_AddStringToObject(ev, "type", type);
    json_add_str_or_null(ev, "job_id", json_str(view, "job_id"));
    cJSON_AddStringToObject(ev, "status", queued ? "queued" : status ? status : type);
    json_add_str_or_null(ev, "at", json_str(view, queued ? "created_at" : "finished_at"));
    if (!queued && json_str(view, "error") != NULL && strcmp(type, "failed") == 0)
        cJSON_AddStringToObject(ev, "error", json_str(view, "error"));
    data = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    if (data == NULL)
        return NULL;
    frame = sse_frame(sse_id_str(id, idtext), type, data, len);
    free(data);
    return frame;
}

/* The id of a final event built from the view: its finish time, and the
 * last sequence number of that millisecond, so that it follows every event
 * the job's stream held in it. */
static struct sse_id synth_final_id(const cJSON *view)
{
    struct sse_id id = {(uint64_t)rfc3339_ms(json_str(view, "finished_at")), UINT64_MAX};

    return id;
}

static long stream_read(void *arg, char *buf, size_t max)
{
    return (long)sub_read(arg, buf, max);
}

static void stream_done(void *arg)
{
    sub_release(arg);
    metrics_add(MET_SSE_SUBSCRIBERS, "", -1);
}

/* A job only PostgreSQL still holds: its final event, then the end. */
static void respond_final_only(struct request *req, const cJSON *view, const struct sse_id *after)
{
    struct sse_id id = synth_final_id(view);
    size_t rlen, flen;
    char *retry, *frame, *text;
    struct err e;

    /* The stream is gone, so what the client saw is unknown: only a final
     * event built here (its id ends in the last sequence number) tells that
     * it has the end. The finish time is the worker's clock and event ids
     * are Redis's, so a later id is no proof: the end is sent again, with
     * an id after the client's. */
    if (sse_id_cmp(&id, after) <= 0) {
        if (after->seq == UINT64_MAX) {
            respond_empty(req, 204);
            return;
        }
        id.ms = after->ms;
    }
    retry = sse_retry(JOB_EVENTS_RETRY_MS, &rlen);
    frame = synth_frame(view, &id, json_str(view, "status"), &flen);
    text = retry && frame ? malloc(rlen + flen + 1) : NULL;
    if (text != NULL) {
        memcpy(text, retry, rlen);
        memcpy(text + rlen, frame, flen + 1);
        metrics_inc(MET_SSE_EVENTS, "");
        respond_text(req, 200, CT_EVENT_STREAM, text);
    } else {
        err_set(&e, ERR_INTERNAL, "out of memory building the stream");
        respond_error(req, &e);
    }
    free(retry);
    free(frame);
}

static void respond_refused(struct request *req, enum subs_refusal why)
{
    struct err e;

    if (why == SUBS_USER_FULL)
        err_set(&e, ERR_TOO_MANY_STREAMS, "you hold %ld event streams on this server, the most "
                "allowed; close one first", req->gw->cfg->sse_max_per_user);
    else if (why == SUBS_CLOSING)
        err_set(&e, ERR_NOT_READY, "the server is stopping; reconnect");
    else
        err_set(&e, ERR_SUBSCRIBERS_FULL, "this server holds its most event streams (%ld); "
                "retry later", req->gw->cfg->sse_max_subscribers);
    respond_header(req, "Retry-After", JOB_EVENTS_RETRY_AFTER);
    respond_error(req, &e);
}

/* Queues the stored events after *after (subs_history counts those really
 * queued); returns 0, or -1 when the client already had the final one
 * (*seen_final set) or Redis failed (e set). */
static int queue_history(struct request *req, struct sub *s, const cJSON *view,
                         const struct sse_id *after, int *seen_final, struct err *e)
{
    char key[JOB_EVENTS_KEY_MAX];
    struct kv *kv = gateway_kv(req->gw, e);
    cJSON *entries = NULL;
    const cJSON *it;
    struct sse_id last = *after;
    int have_final = 0;

    *seen_final = 0;
    snprintf(key, sizeof key, JOB_EVENTS_KEY_PREFIX "%.36s", req->param);
    if (kv == NULL || kv_call(kv, 6, (const char *[]){"XRANGE", key, "-", "+", "COUNT",
                                                      JOB_EVENTS_READ_MAX},
                              NULL, &entries, e) != ERR_OK)
        return -1;
    cJSON_ArrayForEach(it, entries) {
        struct sse_id id;
        size_t len;
        int final;
        char *frame = events_entry_frame(it, &id, &len, &final);

        if (frame == NULL)
            continue;
        have_final |= final;
        if (sse_id_cmp(&id, after) <= 0)
            *seen_final |= final;
        else if (!*seen_final)      /* the client has the end: 204 below */
            subs_history(s, &id, frame, len, final);
        if (sse_id_cmp(&id, &last) > 0)
            last = id;
        free(frame);
    }
    cJSON_Delete(entries);
    if (*seen_final)
        return -1;
    if (!have_final && job_view_finished(view)) {
        /* Finished before its events were kept: the end from the hot copy. */
        struct sse_id id = synth_final_id(view);
        size_t len;
        char *frame;
        if (sse_id_cmp(&id, &last) <= 0) {
            if (last.seq == UINT64_MAX) {
                *seen_final = 1;    /* the client holds a final built here */
                return -1;
            }
            id.ms = last.ms;
        }
        if ((frame = synth_frame(view, &id, json_str(view, "status"), &len)) != NULL) {
            subs_history(s, &id, frame, len, 1);
            free(frame);
        }
    }
    return 0;
}

/* A job with a hot copy: register, queue its history, stream. */
static void respond_stream_of(struct request *req, const cJSON *view, struct sse_id after)
{
    const char *pre[2];
    size_t pre_len[2];
    char *retry, *queued = NULL;
    struct sse_id qid = SSE_ID_QUEUED;
    enum subs_refusal why;
    struct sub *s;
    struct err e;
    int n = 0, seen_final;

    retry = sse_retry(JOB_EVENTS_RETRY_MS, &pre_len[0]);
    pre[n++] = retry;
    if (sse_id_cmp(&after, &qid) < 0) {
        queued = synth_frame(view, &qid, "queued", &pre_len[1]);
        pre[n++] = queued;
        after = qid;
    }
    if (retry == NULL || (n == 2 && queued == NULL)) {
        free(retry);
        free(queued);
        err_set(&e, ERR_INTERNAL, "out of memory building the stream");
        respond_error(req, &e);
        return;
    }
    s = subs_add(req->gw->subs, req->param, req->who.user_id, &after, req->conn, pre, pre_len,
                 n, &why);
    free(retry);
    free(queued);
    if (s == NULL) {
        respond_refused(req, why);
        return;
    }
    metrics_add(MET_SSE_SUBSCRIBERS, "", 1);
    err_clear(&e);
    if (queue_history(req, s, view, &after, &seen_final, &e) < 0) {
        stream_done(s);
        if (seen_final)
            respond_empty(req, 204);
        else
            gate_respond_error(req, &e);
        return;
    }
    /* subs.c counts the events it queues; the "queued" one went in as a
     * pre frame, always first in a new stream's buffer. */
    if (n == 2)
        metrics_inc(MET_SSE_EVENTS, "");
    subs_synced(s);
    respond_stream(req, CT_EVENT_STREAM, stream_read, stream_done, s);
}

void handle_job_events(struct request *req)
{
    const char *id = req->param;    /* lower-cased by the server (ROUTE_JOB) */
    const char *last = request_header(req, "Last-Event-ID");
    struct sse_id after = {0, 0};
    cJSON *view;
    int hot;
    struct err e;

    err_clear(&e);
    if (!jobs_id_or_respond(req, id))
        return;
    /* Clients that cannot set headers may say it in the query string. */
    if (last == NULL)
        last = request_query(req, "last_event_id");
    if (last != NULL && last[0] != '\0' && sse_id_parse(last, &after) != 0) {
        err_set_field(&e, ERR_INVALID_FIELD_VALUE, "Last-Event-ID",
                      "Last-Event-ID is the id of an event this stream sent (<ms>-<seq>)");
        respond_error(req, &e);
        return;
    }
    /* The hot copy was read with the gate; without one, PostgreSQL's row. */
    if ((view = jobs_view_or_respond(req, id, &hot)) == NULL)
        return;
    if (!hot && job_view_finished(view))
        respond_final_only(req, view, &after);
    else
        respond_stream_of(req, view, after);
    cJSON_Delete(view);
}
