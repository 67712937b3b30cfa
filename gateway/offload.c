/* offload.c - a fixed pool of threads over a bounded ring of tasks, one
 * mutex and one condition variable. A plain pool takes one task at a time;
 * a batched one up to batch_max. */
#include "gateway/offload.h"

#include <pthread.h>
#include <stdlib.h>

struct task {
    offload_fn *fn;
    void *arg;
};

struct offload {
    pthread_mutex_t mu;
    pthread_cond_t cv;              /* a task was queued, or stopping */
    struct task *ring;              /* queue_max slots */
    int queue_max;
    int head;                       /* next task to run */
    int count;                      /* tasks queued */
    int stopping;
    int batch_max;                  /* tasks taken at once: 1 unless batched */
    offload_batch_fn *batch;        /* NULL for a plain pool */
    void *batch_ctx;
    int threads;                    /* started */
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
    pthread_mutex_unlock(&o->mu);
    return NULL;
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
    for (; o->threads < threads; o->threads++) {
        if (pthread_create(&o->tid[o->threads], NULL, offload_thread, o) != 0) {
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

void offload_stop(struct offload *o)
{
    int threads;

    if (o == NULL)
        return;
    pthread_mutex_lock(&o->mu);
    o->stopping = 1;
    pthread_cond_broadcast(&o->cv);
    threads = o->threads;
    o->threads = 0;                 /* joined once, whoever stops it again */
    pthread_mutex_unlock(&o->mu);
    for (int i = 0; i < threads; i++)
        pthread_join(o->tid[i], NULL);
}

void offload_free(struct offload *o)
{
    if (o == NULL)
        return;
    offload_stop(o);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o->ring);
    free(o);
}
