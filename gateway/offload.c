/* offload.c - a fixed pool of threads over a bounded ring of tasks, one
 * mutex and one condition variable. */
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
    int threads;                    /* started */
    pthread_t tid[OFFLOAD_THREADS_MAX];
};

static void *offload_thread(void *p)
{
    struct offload *o = p;

    pthread_mutex_lock(&o->mu);
    for (;;) {
        struct task t;

        while (o->count == 0 && !o->stopping)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->count == 0)
            break;                  /* stopping, and nothing left to run */
        t = o->ring[o->head];
        o->head = (o->head + 1) % o->queue_max;
        o->count--;
        pthread_mutex_unlock(&o->mu);
        t.fn(t.arg);
        pthread_mutex_lock(&o->mu);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

struct offload *offload_new(int threads, int queue_max, struct err *e)
{
    struct offload *o;

    if (threads < 1 || threads > OFFLOAD_THREADS_MAX || queue_max < 1) {
        err_set(e, ERR_CONFIG, "offload pool: %d threads (1..%d), %d queued (>= 1)", threads,
                OFFLOAD_THREADS_MAX, queue_max);
        return NULL;
    }
    o = calloc(1, sizeof *o);
    if (o == NULL || (o->ring = calloc((size_t)queue_max, sizeof *o->ring)) == NULL) {
        free(o);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    o->queue_max = queue_max;
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

void offload_free(struct offload *o)
{
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->mu);
    o->stopping = 1;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    for (int i = 0; i < o->threads; i++)
        pthread_join(o->tid[i], NULL);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    free(o->ring);
    free(o);
}
