/* cancel_watch.h - hears the cancellations of jobs this worker runs.
 *
 * A connection of its own is subscribed to JOB_CANCEL_CHANNEL
 * (job_cancel.lua publishes a job id there when its owner cancels it while
 * it runs) and hands each id to pipeline_cancel(). Messages published while
 * the subscription was down are lost: once it is back, the jobs in memory
 * are looked up (their hash's cancel_requested), so none is missed.
 */
#ifndef WK_CANCEL_WATCH_H
#define WK_CANCEL_WATCH_H

struct cancel_watch;
struct err;
struct worker;

/* Starts watching for w (borrowed: it outlives the watch; its loop, Redis
 * URL and command connection are used). Returns the watch (owns) or NULL
 * with e set. */
struct cancel_watch *cancel_watch_new(struct worker *w, struct err *e);

/* Unsubscribes and frees; lookups still in flight are let go. Accepts NULL. */
void cancel_watch_free(struct cancel_watch *cw);

#endif
