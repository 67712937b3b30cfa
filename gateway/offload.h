/* offload.h - a small pool of threads for the work that may block for long
 * (PostgreSQL queries, password hashing), so that the HTTP request threads,
 * one per core, only ever wait on Redis.
 *
 * A task is a function and its argument. Tasks run in the order submitted,
 * each on one of the pool's threads; a bounded queue holds the ones waiting
 * for a thread. Submitting never blocks: a full queue refuses the task and
 * the caller answers "overloaded" instead of queueing without bound.
 *
 *     struct offload *o = offload_new(4, 1024, &e);
 *     if (offload_submit(o, run, arg) != 0) ... refused: queue full or stopping
 *     offload_free(o);    runs what is queued, then joins the threads
 */
#ifndef GW_OFFLOAD_H
#define GW_OFFLOAD_H

#include "common/err.h"

/* Threads in a pool at most. */
#define OFFLOAD_THREADS_MAX 64

struct offload;

typedef void offload_fn(void *arg);

/* Starts `threads` (1..OFFLOAD_THREADS_MAX) threads with room for
 * `queue_max` (>= 1) waiting tasks. NULL with e set on failure. */
struct offload *offload_new(int threads, int queue_max, struct err *e);

/* Queues fn(arg). Returns 0, or -1 when the queue is full or the pool is
 * stopping: fn is then not called and arg stays the caller's. Thread-safe. */
int offload_submit(struct offload *o, offload_fn *fn, void *arg);

/* Tasks queued and not yet started, at this instant. Thread-safe. */
int offload_queued(struct offload *o);

/* Refuses new tasks, runs every task already queued, joins the threads and
 * frees the pool. NULL is a no-op. */
void offload_free(struct offload *o);

#endif
