/* channel_watch.c - WORKER_CHANNEL to pipeline_cancel() and worker_reclaim_soon(). */
#include "worker/channel_watch.h"

#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/kv_async.h"
#include "worker/pipeline.h"
#include "worker/worker.h"

#include <stdlib.h>
#include <string.h>

/* Jobs looked up at once after a resubscription, at most (a worker holds
 * CODEINSIGHT_MAX_INFLIGHT jobs; the rest are looked up at their start). */
#define RECHECK_MAX 4096

struct channel_watch {
    struct worker *w;
    struct kv_async *sub;           /* subscribed: messages only */
};

/* One job's lookup: borrowed by the command connection's callback. */
struct recheck {
    struct worker *w;
    char job_id[CRYPTO_UUID_LEN];
};

static void on_rechecked(void *arg, cJSON *reply, const struct err *e)
{
    struct recheck *r = arg;

    /* An error (the connection went away, the worker is stopping): the job
     * is looked up at its next start, if it has one. */
    if (e->code == ERR_OK && cJSON_IsNumber(reply) && reply->valuedouble == 1)
        pipeline_cancel(r->w, r->job_id);
    free(r);
}

/* Messages published while the subscription was down are gone: ask each
 * job in memory whether it was cancelled meanwhile. */
static void recheck_all(struct channel_watch *cw)
{
    const char **ids = malloc(2 * RECHECK_MAX * sizeof *ids);
    int n = ids != NULL ? pipeline_held(cw->w, ids + RECHECK_MAX, ids, RECHECK_MAX) : 0;
    struct err e;

    for (int i = 0; i < n; i++) {
        struct recheck *r;
        char key[JOB_KEY_MAX];

        if (ids[i][0] == '\0')         /* no job id known yet */
            continue;
        if ((r = malloc(sizeof *r)) == NULL)
            break;
        r->w = cw->w;
        memcpy(r->job_id, ids[i], sizeof r->job_id);
        r->job_id[sizeof r->job_id - 1] = '\0';
        job_key(r->job_id, key);
        if (kv_async_call(cw->w->kv, 3, (const char *[]){"HEXISTS", key, "cancel_requested"},
                          NULL, on_rechecked, r, &e) != ERR_OK) {
            free(r);
            break;
        }
    }
    free(ids);
}

static void on_message(void *arg, const char *payload, size_t len)
{
    struct channel_watch *cw = arg;
    char id[CRYPTO_UUID_LEN];

    if (payload == NULL) {
        recheck_all(cw);
        return;
    }
    if (len > sizeof JOB_RELEASED_MESSAGE - 1 &&
        memcmp(payload, JOB_RELEASED_MESSAGE, sizeof JOB_RELEASED_MESSAGE - 1) == 0) {
        const char *stream = payload + sizeof JOB_RELEASED_MESSAGE - 1;
        size_t n = len - (sizeof JOB_RELEASED_MESSAGE - 1);
        if (n == strlen(cw->w->stream) && memcmp(stream, cw->w->stream, n) == 0)
            worker_reclaim_soon(cw->w);
        return;
    }
    if (len != sizeof id - 1)
        return;                     /* not a job id: nothing of ours */
    memcpy(id, payload, len);
    id[len] = '\0';
    pipeline_cancel(cw->w, id);
}

struct channel_watch *channel_watch_new(struct worker *w, struct err *e)
{
    struct channel_watch *cw = calloc(1, sizeof *cw);

    if (cw == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    cw->w = w;
    if ((cw->sub = kv_async_new(w->loop, &w->kv_url, "channel-sub", NULL, NULL, e)) == NULL ||
        kv_async_subscribe(cw->sub, WORKER_CHANNEL, on_message, cw, e) != ERR_OK) {
        kv_async_free(cw->sub);
        free(cw);
        return NULL;
    }
    return cw;
}

void channel_watch_free(struct channel_watch *cw)
{
    if (cw == NULL)
        return;
    kv_async_free(cw->sub);
    free(cw);
}
