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
 *     offload_stop(o);    runs what is queued, joins the threads, refuses more
 *     offload_free(o);    (stops it if need be) and frees it
 *
 * or, to wait for a limited time (monotonic ms, clock_mono_ms):
 *
 *     if (offload_stop_by(o, clock_mono_ms() + 2000) > 0) ... tasks still run
 *
 * A thread of a batched pool takes every task queued (up to a batch size)
 * at once and hands their arguments to one function: what was submitted
 * while the pool's threads were busy goes out together (the admissions'
 * one Redis round trip per batch, admit.h).
 */
#ifndef GW_OFFLOAD_H
#define GW_OFFLOAD_H

#include "common/err.h"

#include <stdint.h>

/* Threads in a pool at most. */
#define OFFLOAD_THREADS_MAX 64
/* Tasks a batched pool takes at once at most. */
#define OFFLOAD_BATCH_MAX 64

struct offload;

typedef void offload_fn(void *arg);
typedef void offload_batch_fn(void *ctx, void **args, int n);

/* Starts `threads` (1..OFFLOAD_THREADS_MAX) threads with room for
 * `queue_max` (>= 1) waiting tasks. NULL with e set on failure. */
struct offload *offload_new(int threads, int queue_max, struct err *e);

/* Starts a batched pool: `threads` threads, each calling fn(ctx, args, n)
 * with the arguments of 1..batch_max (1..OFFLOAD_BATCH_MAX) queued tasks,
 * in the order submitted; with several threads, batches run concurrently.
 * Submit to it with fn NULL. */
struct offload *offload_new_batched(int threads, int queue_max, int batch_max,
                                    offload_batch_fn *fn, void *ctx, struct err *e);

/* Queues fn(arg) (arg alone for a batched pool). Returns 0, or -1 when the
 * queue is full or the pool is stopping: fn is then not called and arg
 * stays the caller's. Thread-safe. */
int offload_submit(struct offload *o, offload_fn *fn, void *arg);

/* Tasks queued and not yet started, at this instant. Thread-safe. */
int offload_queued(struct offload *o);

/* Refuses new tasks (offload_submit returns -1 from now on), runs every
 * task already queued and joins the threads; the pool stays valid to
 * submit to (refused) until offload_free. Again, or NULL: a no-op. */
void offload_stop(struct offload *o);

/* Like offload_stop, but waits until deadline_ms (clock_mono_ms) at most.
 * Returns 0 when every thread was joined, or the number of threads still
 * running a task, which are not joined (call again to wait more) and need
 * the pool: it must not be freed while they run. NULL: returns 0. */
int offload_stop_by(struct offload *o, int64_t deadline_ms);

/* offload_stop, then frees the pool. NULL is a no-op. */
void offload_free(struct offload *o);

#endif
