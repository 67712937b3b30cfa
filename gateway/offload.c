/* offload.c - a fixed pool of threads over a bounded ring of tasks, one
 * mutex and one condition variable. A plain pool takes one task at a time;
 * a batched one up to batch_max. */
#include "gateway/offload.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* offload_stop's deadline: none. */
#define OFFLOAD_NO_DEADLINE (-1)

struct task {
    offload_fn *fn;
    void *arg;
};

struct offload {
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* a task was queued, or stopping */
    pthread_cond_t done;            /* a thread left its loop (CLOCK_MONOTONIC) */
    struct task *ring;              /* queue_max slots */
    int queue_max;
    int head;                       /* next task to run */
    int count;                      /* tasks queued */
    int stopping;
    int batch_max;                  /* tasks taken at once: 1 unless batched */
    offload_batch_fn *batch;        /* NULL for a plain pool */
    void *batch_ctx;
    int threads;                    /* started and not joined */
    int running;                    /* started and not past their loop */
    pthread_t tid[OFFLOAD_THREADS_MAX];
};

static void *offload_thread(void *p)
{
    struct offload *o = p;

    pthread_mutex_lock(&o->mu);
    for (;;) {
        struct task t[OFFLOAD_BATCH_MAX];
        void *args[OFFLOAD_BATCH_MAX];
        int n = 0;

        while (o->count == 0 && !o->stopping)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->count == 0)
            break;                  /* stopping, and nothing left to run */
        while (n < o->batch_max && o->count > 0) {
            t[n++] = o->ring[o->head];
            o->head = (o->head + 1) % o->queue_max;
            o->count--;
        }
        pthread_mutex_unlock(&o->mu);
        if (o->batch != NULL) {
            for (int i = 0; i < n; i++)
                args[i] = t[i].arg;
            o->batch(o->batch_ctx, args, n);
        } else {
            for (int i = 0; i < n; i++)
                t[i].fn(t[i].arg);
        }
        pthread_mutex_lock(&o->mu);
    }
    o->running--;
    pthread_cond_broadcast(&o->done);
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* The done condition waits on the monotonic clock, as deadlines are. */
static void done_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;

    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static struct offload *pool_new(int threads, int queue_max, int batch_max,
                                 offload_batch_fn *fn, void *ctx, struct err *e)
{
    struct offload *o;

    if (threads < 1 || threads > OFFLOAD_THREADS_MAX || queue_max < 1 || batch_max < 1 ||
        batch_max > OFFLOAD_BATCH_MAX) {
        err_set(e, ERR_CONFIG, "offload pool: %d threads (1..%d), %d queued (>= 1), batches "
                "of %d (1..%d)", threads, OFFLOAD_THREADS_MAX, queue_max, batch_max,
                OFFLOAD_BATCH_MAX);
        return NULL;
    }
    o = calloc(1, sizeof *o);
    if (o == NULL || (o->ring = calloc((size_t)queue_max, sizeof *o->ring)) == NULL) {
        free(o);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    o->queue_max = queue_max;
    o->batch_max = batch_max;
    o->batch = fn;
    o->batch_ctx = ctx;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    done_init(&o->done);
    for (; o->threads < threads; o->threads++) {
        o->running++;               /* before the thread can leave its loop */
        if (pthread_create(&o->tid[o->threads], NULL, offload_thread, o) != 0) {
            o->running--;
            err_set(e, ERR_INTERNAL, "cannot start an offload thread");
            offload_free(o);
            return NULL;
        }
    }
    return o;
}

struct offload *offload_new(int threads, int queue_max, struct err *e)
{
    return pool_new(threads, queue_max, 1, NULL, NULL, e);
}

struct offload *offload_new_batched(int threads, int queue_max, int batch_max,
                                    offload_batch_fn *fn, void *ctx, struct err *e)
{
    if (fn == NULL) {
        err_set(e, ERR_CONFIG, "offload pool: a batched pool needs a function");
        return NULL;
    }
    return pool_new(threads, queue_max, batch_max, fn, ctx, e);
}

int offload_submit(struct offload *o, offload_fn *fn, void *arg)
{
    int rc = -1;

    pthread_mutex_lock(&o->mu);
    if (!o->stopping && o->count < o->queue_max) {
        o->ring[(o->head + o->count) % o->queue_max] = (struct task){fn, arg};
        o->count++;
        pthread_cond_signal(&o->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&o->mu);
    return rc;
}

int offload_queued(struct offload *o)
{
    int n;

    pthread_mutex_lock(&o->mu);
    n = o->count;
    pthread_mutex_unlock(&o->mu);
    return n;
}

/* With o->mu held: waits for o->done until deadline_ms (OFFLOAD_NO_DEADLINE:
 * none). Returns 0, or ETIMEDOUT. */
static int wait_done(struct offload *o, int64_t deadline_ms)
{
    struct timespec ts;

    if (deadline_ms == OFFLOAD_NO_DEADLINE)
        return pthread_cond_wait(&o->done, &o->mu);
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    return pthread_cond_timedwait(&o->done, &o->mu, &ts);
}

/* deadline_ms: OFFLOAD_NO_DEADLINE, or offload_stop_by's. */
static int stop_until(struct offload *o, int64_t deadline_ms)
{
    int threads = 0, left;

    if (o == NULL)
        return 0;
    pthread_mutex_lock(&o->mu);
    o->stopping = 1;
    pthread_cond_broadcast(&o->cv);
    while (o->running > 0 && wait_done(o, deadline_ms) != ETIMEDOUT)
        ;
    left = o->running;
    if (left == 0) {
        threads = o->threads;
        o->threads = 0;             /* joined once, whoever stops it again */
    }
    pthread_mutex_unlock(&o->mu);
    /* Past their loops: each is at most freeing its thread's connections. */
    for (int i = 0; i < threads; i++)
        pthread_join(o->tid[i], NULL);
    return left;
}

void offload_stop(struct offload *o)
{
    stop_until(o, OFFLOAD_NO_DEADLINE);
}

int offload_stop_by(struct offload *o, int64_t deadline_ms)
{
    return stop_until(o, deadline_ms < 0 ? 0 : deadline_ms);
}

void offload_free(struct offload *o)
{
    if (o == NULL)
        return;
    offload_stop(o);
    pthread_cond_destroy(&o->done);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o->ring);
    free(o);
}
