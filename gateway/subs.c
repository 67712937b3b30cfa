/* subs.c - registry of live job event streams and their queued bytes. */
#include "gateway/subs.h"

#include "common/metrics.h"
#include "common/metrics_table.h"
#include "common/strhash.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBS_USER_BUCKETS 1024
#define SUBS_ID_MAX 39                  /* a job or user id, bytes */
#define SUBS_BUF_INITIAL 1024

/* A live event that arrived while its stream was syncing. */
struct parked {
    struct parked *next;
    struct sse_id id;
    int final;
    size_t len;
    char frame[];
};

struct user_count {
    struct user_count *next;
    long n;
    char user_id[SUBS_ID_MAX + 1];
};

struct sub {
    struct subs *subs;
    struct sub *prev, *next;            /* bucket list; one job's streams are adjacent */
    char job_id[SUBS_ID_MAX + 1];
    struct user_count *user;
    void *conn;                         /* borrowed: lives until sub_release */
    struct sse_id last;                 /* last event id queued */
    char *buf;                          /* queued bytes [off, len) */
    size_t off, len, cap;
    int syncing;                        /* its own history is being read */
    int resync;                         /* the events thread is catching it up */
    int suspended;                      /* its reader suspended the connection */
    int final;                          /* the job's final event is queued */
    int over;                           /* ends after the queued bytes (overflow) */
    struct parked *parked, *parked_tail;
    int nparked;
};

struct subs {
    pthread_mutex_t mu;
    long max_total, max_per_user;
    long count;
    int closing;
    subs_conn_fn *suspend, *resume;
    struct sub *buckets[SUBS_BUCKETS];
    struct user_count *users[SUBS_USER_BUCKETS];
};

struct subs *subs_new(long max_total, long max_per_user, subs_conn_fn *suspend,
                      subs_conn_fn *resume)
{
    struct subs *subs = calloc(1, sizeof *subs);

    if (subs == NULL)
        return NULL;
    if (pthread_mutex_init(&subs->mu, NULL) != 0) {
        free(subs);
        return NULL;
    }
    subs->max_total = max_total;
    subs->max_per_user = max_per_user;
    subs->suspend = suspend;
    subs->resume = resume;
    return subs;
}

void subs_free(struct subs *subs)
{
    if (subs == NULL)
        return;
    for (int i = 0; i < SUBS_USER_BUCKETS; i++) {
        while (subs->users[i] != NULL) {
            struct user_count *u = subs->users[i];
            subs->users[i] = u->next;
            free(u);
        }
    }
    pthread_mutex_destroy(&subs->mu);
    free(subs);
}

/* The one place codeinsight_sse_events_total grows: by the n events the
 * caller queued to streams (called after unlocking, once per call). */
static int counted(int n)
{
    if (n > 0)
        metrics_add(MET_SSE_EVENTS, "", n);
    return n;
}

/* ---- under the mutex ---- */

static void wake(struct sub *s)
{
    if (s->suspended) {
        s->suspended = 0;
        s->subs->resume(s->conn);
    }
}

/* Appends bytes, or ends the stream when the client is that far behind. */
static void queue_bytes(struct sub *s, const char *data, size_t len)
{
    size_t pending = s->len - s->off;

    if (s->over)
        return;
    if (pending + len > SUBS_PENDING_MAX) {
        s->over = 1;
        wake(s);
        return;
    }
    if (s->off > 0 && s->len + len > s->cap) {
        memmove(s->buf, s->buf + s->off, pending);
        s->off = 0;
        s->len = pending;
    }
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : SUBS_BUF_INITIAL;
        char *nb;
        while (cap < s->len + len)
            cap *= 2;
        if ((nb = realloc(s->buf, cap)) == NULL) {
            s->over = 1;
            wake(s);
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    wake(s);
}

/* Queues an event newer than the last one queued; nothing after a final one.
 * A final event the client says it has (its Last-Event-ID is not before it,
 * even one from the future) still ends the stream, unsent. Returns 1 when
 * the frame was queued, 0 when it was not (already sent or skipped, the
 * stream ended or overflowed). */
static int queue_event(struct sub *s, const struct sse_id *id, const char *frame, size_t len,
                       int final)
{
    if (s->final || s->over)
        return 0;
    if (sse_id_cmp(id, &s->last) <= 0) {
        if (final) {
            s->final = 1;
            wake(s);
        }
        return 0;
    }
    queue_bytes(s, frame, len);
    if (s->over)
        return 0;
    s->last = *id;
    if (final) {
        s->final = 1;
        wake(s);
    }
    return 1;
}

static void park(struct sub *s, const struct sse_id *id, const char *frame, size_t len,
                 int final)
{
    struct parked *p;

    if (s->nparked >= SUBS_PARKED_MAX || (p = malloc(sizeof *p + len)) == NULL) {
        s->over = 1;
        return;
    }
    p->next = NULL;
    p->id = *id;
    p->final = final;
    p->len = len;
    memcpy(p->frame, frame, len);
    if (s->parked_tail != NULL)
        s->parked_tail->next = p;
    else
        s->parked = p;
    s->parked_tail = p;
    s->nparked++;
}

/* Returns 1 when the event was queued now, 0 when parked or not queued. */
static int live(struct sub *s, const struct sse_id *id, const char *frame, size_t len,
                int final)
{
    if (s->syncing || s->resync) {
        park(s, id, frame, len, final);
        return 0;
    }
    return queue_event(s, id, frame, len, final);
}

/* Once neither its own history nor a resync is pending: the parked events.
 * Returns how many were queued (the others were sent already, or the
 * stream ended). */
static int unpark(struct sub *s)
{
    struct parked *p;
    int n = 0;

    if (s->syncing || s->resync)
        return 0;
    while ((p = s->parked) != NULL) {
        s->parked = p->next;
        n += queue_event(s, &p->id, p->frame, p->len, p->final);
        free(p);
    }
    s->parked_tail = NULL;
    s->nparked = 0;
    wake(s);
    return n;
}

static struct user_count *user_find(struct subs *subs, const char *user_id, int create)
{
    struct user_count **slot = &subs->users[strhash(user_id) % SUBS_USER_BUCKETS], *u;

    for (u = *slot; u != NULL; u = u->next)
        if (strcmp(u->user_id, user_id) == 0)
            return u;
    if (!create || (u = calloc(1, sizeof *u)) == NULL)
        return NULL;
    snprintf(u->user_id, sizeof u->user_id, "%s", user_id);
    u->next = *slot;
    *slot = u;
    return u;
}

static void user_drop(struct subs *subs, struct user_count *u)
{
    struct user_count **slot = &subs->users[strhash(u->user_id) % SUBS_USER_BUCKETS];

    if (--u->n > 0)
        return;
    while (*slot != u)
        slot = &(*slot)->next;
    *slot = u->next;
    free(u);
}

/* ---- request threads ---- */

struct sub *subs_add(struct subs *subs, const char *job_id, const char *user_id,
                     const struct sse_id *after, void *conn, const char *const *pre,
                     const size_t *pre_len, int n, enum subs_refusal *why)
{
    struct sub *s = calloc(1, sizeof *s), *at;
    struct sub **bucket;
    struct user_count *u;

    *why = SUBS_OK;
    if (s == NULL) {
        *why = SUBS_FULL;
        return NULL;
    }
    pthread_mutex_lock(&subs->mu);
    u = user_find(subs, user_id, 0);
    if (subs->closing)
        *why = SUBS_CLOSING;
    else if (subs->count >= subs->max_total)
        *why = SUBS_FULL;
    else if (u != NULL && u->n >= subs->max_per_user)
        *why = SUBS_USER_FULL;
    else if (u == NULL && (u = user_find(subs, user_id, 1)) == NULL)
        *why = SUBS_FULL;
    if (*why != SUBS_OK) {
        pthread_mutex_unlock(&subs->mu);
        free(s);
        return NULL;
    }
    s->subs = subs;
    snprintf(s->job_id, sizeof s->job_id, "%s", job_id);
    s->user = u;
    u->n++;
    s->conn = conn;
    s->last = *after;
    s->syncing = 1;
    for (int i = 0; i < n; i++)
        queue_bytes(s, pre[i], pre_len[i]);
    /* Next to the job's other streams, so a resync finds each job once. */
    bucket = &subs->buckets[strhash(job_id) % SUBS_BUCKETS];
    for (at = *bucket; at != NULL && strcmp(at->job_id, job_id) != 0; at = at->next)
        ;
    if (at != NULL) {
        s->prev = at;
        s->next = at->next;
        if (at->next != NULL)
            at->next->prev = s;
        at->next = s;
    } else {
        s->next = *bucket;
        if (*bucket != NULL)
            (*bucket)->prev = s;
        *bucket = s;
    }
    subs->count++;
    pthread_mutex_unlock(&subs->mu);
    return s;
}

int subs_history(struct sub *s, const struct sse_id *id, const char *frame, size_t len,
                 int final)
{
    int n;

    pthread_mutex_lock(&s->subs->mu);
    n = queue_event(s, id, frame, len, final);
    pthread_mutex_unlock(&s->subs->mu);
    return counted(n);
}

int subs_synced(struct sub *s)
{
    int n;

    pthread_mutex_lock(&s->subs->mu);
    s->syncing = 0;
    n = unpark(s);
    pthread_mutex_unlock(&s->subs->mu);
    return counted(n);
}

int sub_final(struct sub *s)
{
    int final;

    pthread_mutex_lock(&s->subs->mu);
    final = s->final;
    pthread_mutex_unlock(&s->subs->mu);
    return final;
}

ssize_t sub_read(struct sub *s, char *buf, size_t max)
{
    struct subs *subs = s->subs;
    size_t n;

    pthread_mutex_lock(&subs->mu);
    n = s->len - s->off;
    if (n > 0) {
        if (n > max)
            n = max;
        memcpy(buf, s->buf + s->off, n);
        s->off += n;
        if (s->off == s->len)
            s->off = s->len = 0;
        pthread_mutex_unlock(&subs->mu);
        return (ssize_t)n;
    }
    if (s->final || s->over || subs->closing) {
        pthread_mutex_unlock(&subs->mu);
        return -1;
    }
    /* Under the mutex: whoever queues the next byte sees this and resumes. */
    if (!s->suspended) {
        s->suspended = 1;
        subs->suspend(s->conn);
    }
    pthread_mutex_unlock(&subs->mu);
    return 0;
}

void sub_release(struct sub *s)
{
    struct subs *subs;
    struct parked *p;

    if (s == NULL)
        return;
    subs = s->subs;
    pthread_mutex_lock(&subs->mu);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        subs->buckets[strhash(s->job_id) % SUBS_BUCKETS] = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    user_drop(subs, s->user);
    subs->count--;
    pthread_mutex_unlock(&subs->mu);
    while ((p = s->parked) != NULL) {
        s->parked = p->next;
        free(p);
    }
    free(s->buf);
    free(s);
}

/* ---- events thread ---- */

int subs_publish(struct subs *subs, const char *job_id, const struct sse_id *id,
                 const char *frame, size_t len, int final)
{
    struct sub *s;
    int n = 0;

    pthread_mutex_lock(&subs->mu);
    for (s = subs->buckets[strhash(job_id) % SUBS_BUCKETS]; s != NULL; s = s->next)
        if (strcmp(s->job_id, job_id) == 0)
            n += live(s, id, frame, len, final);
    pthread_mutex_unlock(&subs->mu);
    return counted(n);
}

int subs_heartbeat(struct subs *subs)
{
    static const char hb[] = SSE_HEARTBEAT;
    int n = 0;

    pthread_mutex_lock(&subs->mu);
    for (int i = 0; i < SUBS_BUCKETS; i++) {
        for (struct sub *s = subs->buckets[i]; s != NULL; s = s->next) {
            /* A stream with bytes still queued is being written already. */
            if (s->syncing || s->resync || s->final || s->over || s->len > s->off)
                continue;
            queue_bytes(s, hb, sizeof hb - 1);
            n++;
        }
    }
    pthread_mutex_unlock(&subs->mu);
    return n;
}

int subs_resync_begin(struct subs *subs, char (*jobs)[40], struct sse_id *from, int max)
{
    int n = 0;

    pthread_mutex_lock(&subs->mu);
    for (int i = 0; i < SUBS_BUCKETS; i++) {
        for (struct sub *s = subs->buckets[i]; s != NULL; s = s->next) {
            int first = s->prev == NULL || strcmp(s->prev->job_id, s->job_id) != 0;
            if (first) {
                if (n >= max)
                    goto out;
                snprintf(jobs[n], sizeof jobs[n], "%s", s->job_id);
                from[n] = s->last;
                n++;
            } else if (sse_id_cmp(&s->last, &from[n - 1]) < 0) {
                from[n - 1] = s->last;
            }
            s->resync = 1;
        }
    }
out:
    pthread_mutex_unlock(&subs->mu);
    return n;
}

int subs_resync_event(struct subs *subs, const char *job_id, const struct sse_id *id,
                      const char *frame, size_t len, int final)
{
    int n = 0;

    pthread_mutex_lock(&subs->mu);
    for (struct sub *s = subs->buckets[strhash(job_id) % SUBS_BUCKETS]; s != NULL; s = s->next)
        if (s->resync && strcmp(s->job_id, job_id) == 0)
            n += queue_event(s, id, frame, len, final);
    pthread_mutex_unlock(&subs->mu);
    return counted(n);
}

int subs_resync_end(struct subs *subs, const char *job_id)
{
    int n = 0;

    pthread_mutex_lock(&subs->mu);
    for (struct sub *s = subs->buckets[strhash(job_id) % SUBS_BUCKETS]; s != NULL; s = s->next) {
        if (s->resync && strcmp(s->job_id, job_id) == 0) {
            s->resync = 0;
            n += unpark(s);
        }
    }
    pthread_mutex_unlock(&subs->mu);
    return counted(n);
}

void subs_close_all(struct subs *subs)
{
    pthread_mutex_lock(&subs->mu);
    subs->closing = 1;
    for (int i = 0; i < SUBS_BUCKETS; i++)
        for (struct sub *s = subs->buckets[i]; s != NULL; s = s->next)
            wake(s);
    pthread_mutex_unlock(&subs->mu);
}

long subs_count(struct subs *subs)
{
    long n;

    pthread_mutex_lock(&subs->mu);
    n = subs->count;
    pthread_mutex_unlock(&subs->mu);
    return n;
}
