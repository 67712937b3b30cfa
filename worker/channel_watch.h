/* channel_watch.h - hears what is published to the workers (WORKER_CHANNEL).
 *
 * A connection of its own is subscribed to the channel and hands on its
 * two messages: a job id (job_cancel.lua: its owner cancelled it while it
 * runs) to pipeline_cancel(); "released <stream>" (job_release.lua: a
 * draining worker gave entries back) to worker_reclaim_soon() when the
 * stream is this worker's. Messages published while the subscription was
 * down are lost: once it is back, the jobs in memory are looked up (their
 * hash's cancel_requested), so no cancel is missed, and a released entry
 * waits at most for the next periodic reclaim.
 */
#ifndef WK_CHANNEL_WATCH_H
#define WK_CHANNEL_WATCH_H

struct channel_watch;
struct err;
struct worker;

/* Starts watching for w (borrowed: it outlives the watch; its loop, Redis
 * URL and command connection are used). Returns the watch (owns) or NULL
 * with e set. */
struct channel_watch *channel_watch_new(struct worker *w, struct err *e);

/* Unsubscribes and frees; lookups still in flight are let go. Accepts NULL. */
void channel_watch_free(struct channel_watch *cw);

#endif
