/* scrape.c - GET /metrics: the gateway's registry, with the stream gauges
 * read from Redis at scrape time (so every gateway replica reports the same
 * queue, and nothing polls Redis between scrapes). */
#include "gateway/handlers.h"

#include "common/err.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "gateway/gateway.h"
#include "gateway/offload.h"
#include "gateway/queue.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/subs.h"

#include <stdio.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const int stream_families[] = {MET_STREAM_LENGTH, MET_STREAM_PENDING, MET_STREAM_LAG,
                                      MET_DEAD_LETTERS, MET_DEFERRED_JOBS};
#define N_STREAM_FAMILIES (int)(sizeof stream_families / sizeof stream_families[0])

/* Sets the stream gauges of one snapshot; the lag is hidden when unknown. */
static void stream_gauges(const struct queue_snapshot *q, const char *labels)
{
    metrics_set(MET_STREAM_LENGTH, labels, (double)q->length);
    metrics_set(MET_STREAM_PENDING, labels, (double)q->pending);
    if (q->has_lag)
        metrics_set(MET_STREAM_LAG, labels, (double)q->lag);
    else
        metric_clear(metrics_get(MET_STREAM_LAG, labels));
    metrics_set(MET_DEAD_LETTERS, labels, (double)q->dead_letters);
    metrics_set(MET_DEFERRED_JOBS, labels, (double)q->deferred);
}

/* Reads both streams; on failure hides every stream gauge rather than
 * leave stale values, and says so in codeinsight_queue_read_ok. */
static void read_queue(struct request *req)
{
    struct queue_snapshot q;
    struct err e;
    struct kv *kv = gateway_kv(req->gw, &e);
    char labels[QUEUE_STREAMS][128];
    int ok = kv != NULL;

    for (int i = 0; i < QUEUE_STREAMS; i++) {
        if (ok && queue_read(kv, i, &q, &e) != ERR_OK)
            ok = 0;
        if (metrics_labels(labels[i], sizeof labels[i], "stream", queue_stream_name(i),
                           NULL) != 0)
            labels[i][0] = '\0';
        if (ok)
            stream_gauges(&q, labels[i]);
    }
    if (!ok)
        for (int i = 0; i < QUEUE_STREAMS; i++)
            for (int f = 0; f < N_STREAM_FAMILIES; f++)
                metric_clear(metrics_get(stream_families[f], labels[i]));
    metrics_set(MET_QUEUE_READ_OK, "", ok ? 1 : 0);
}

void handle_metrics(struct request *req)
{
    long active = __atomic_load_n(&req->gw->active, __ATOMIC_ACQUIRE);

    read_queue(req);
    /* Event streams have their own gauge (codeinsight_sse_subscribers). */
    if (req->gw->subs != NULL)
        active -= subs_count(req->gw->subs);
    metrics_set(MET_HTTP_IN_FLIGHT, "", (double)(active > 0 ? active : 0));
    metrics_set(MET_HTTP_WAITING, "", (double)(offload_queued(req->gw->waiters) +
                                                offload_queued(req->gw->admitter)));
    respond_text(req, 200, METRICS_CONTENT_TYPE, metrics_render());
}
