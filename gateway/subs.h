/* subs.h - the subscribers of live job events (GET /job/:id/events): a
 * registry job id -> open streams, and each stream's bytes waiting to be
 * sent.
 *
 * Threads: request threads add streams, feed their history and read their
 * bytes (the HTTP server's content reader); the events thread (events.h)
 * feeds live events and heartbeats. One mutex guards everything here. A
 * stream with nothing to send is suspended by its reader (suspend(conn))
 * and resumed (resume(conn)) by whoever appends to it next, both under the
 * mutex, so resume never runs before its suspend, nor after the stream left
 * the registry.
 *
 * A new stream starts "syncing": live events are parked until its history
 * has been read (subs_synced), then the parked ones newer than the last id
 * sent follow; the same happens for every stream while the events thread
 * catches up after a Redis reconnection (subs_resync_begin/_end). Ids at or
 * before the last one sent are skipped, so nothing is lost or sent twice.
 *
 * Every function that takes events returns how many it queued to streams
 * now (a frame queued to two streams counts twice), and adds as many to
 * codeinsight_sse_events_total: an event skipped (at or before a stream's
 * last id), parked (counted when it is queued after), or offered to a
 * stream that ended (final event queued, too slow) is not counted. The
 * pre frames of subs_add are bytes, not events: their caller counts them.
 *
 *     struct sub *s = subs_add(subs, job, user, &after, conn, pre, n, &why);
 *     ... subs_history(s, &id, frame, len, final) for each stored event ...
 *     subs_synced(s);   then the reader: sub_read(s, buf, max)
 */
#ifndef GW_SUBS_H
#define GW_SUBS_H

#include <stddef.h>
#include <sys/types.h>

#include "gateway/sse.h"

/* Bytes waiting for one slow client at most; past it the stream ends (the
 * client resumes with Last-Event-ID). */
#define SUBS_PENDING_MAX 65536
/* Live events parked for one syncing stream at most; likewise. */
#define SUBS_PARKED_MAX 64
/* Streams per job id bucket array: a power of two. */
#define SUBS_BUCKETS 4096

struct subs;
struct sub;

/* Suspends or resumes the HTTP connection conn (borrowed). */
typedef void subs_conn_fn(void *conn);

enum subs_refusal {
    SUBS_OK,
    SUBS_FULL,          /* the process holds max_total streams */
    SUBS_USER_FULL,     /* the caller holds max_per_user streams */
    SUBS_CLOSING        /* the server is stopping */
};

/* A registry (owns; subs_free) for at most max_total streams, max_per_user
 * of them per user id. NULL when out of memory. */
struct subs *subs_new(long max_total, long max_per_user, subs_conn_fn *suspend,
                      subs_conn_fn *resume);

/* Frees the registry; every stream must have been released. Accepts NULL. */
void subs_free(struct subs *subs);

/* Registers a stream of job_id for user_id on connection conn, in syncing
 * mode, its last id sent being *after. The n frames pre[] (borrowed; copied)
 * are queued first (the retry hint, the synthesised queued event). Returns
 * the stream (owned by the registry until sub_release) or NULL with *why set
 * (SUBS_FULL, SUBS_USER_FULL, SUBS_CLOSING; SUBS_FULL also when out of
 * memory). */
struct sub *subs_add(struct subs *subs, const char *job_id, const char *user_id,
                     const struct sse_id *after, void *conn, const char *const *pre,
                     const size_t *pre_len, int n, enum subs_refusal *why);

/* Queues a stored event for the stream when id is after the last one sent;
 * final marks the job's last event (nothing is queued after it). Returns 1
 * when it was queued, else 0 (counted as said above). */
int subs_history(struct sub *s, const struct sse_id *id, const char *frame, size_t len,
                 int final);

/* Ends syncing: queues the parked live events newer than the last id sent.
 * Returns how many were queued (counted). */
int subs_synced(struct sub *s);

/* 1 when a final event was queued for the stream. */
int sub_final(struct sub *s);

/* The content reader: copies up to max queued bytes into buf and returns
 * how many; when nothing is queued, returns -1 if the stream is over (final
 * event sent, server stopping, client too slow), else suspends the
 * connection and returns 0. */
ssize_t sub_read(struct sub *s, char *buf, size_t max);

/* Removes the stream from the registry and frees it (the response is
 * gone). Accepts NULL. */
void sub_release(struct sub *s);

/* Events thread: queues a live event of job_id for every stream of that
 * job (syncing ones park it). Returns the number of streams it was queued
 * to now (counted), parked ones and those that skipped it not included. */
int subs_publish(struct subs *subs, const char *job_id, const struct sse_id *id,
                 const char *frame, size_t len, int final);

/* Events thread: queues a heartbeat comment for every stream not syncing.
 * Returns the number of streams (heartbeats are not counted as events). */
int subs_heartbeat(struct subs *subs);

/* Events thread, after the subscription came back: puts every stream in
 * syncing mode and writes into jobs (max entries) the distinct job ids with
 * streams, and into from[] the earliest last id sent among each job's
 * streams. Returns the number of jobs (at most max; streams of further jobs
 * are not put in syncing mode). */
int subs_resync_begin(struct subs *subs, char (*jobs)[40], struct sse_id *from, int max);

/* Events thread: queues a stored event of job_id for the streams being
 * resynced (as subs_history does). Returns the number of streams it was
 * queued to (counted). */
int subs_resync_event(struct subs *subs, const char *job_id, const struct sse_id *id,
                      const char *frame, size_t len, int final);

/* Events thread: ends the resync of job_id's streams (as subs_synced).
 * Returns how many parked events were queued, over all of them (counted). */
int subs_resync_end(struct subs *subs, const char *job_id);

/* Ends every stream once its queued bytes are sent, and refuses new ones
 * (SUBS_CLOSING). */
void subs_close_all(struct subs *subs);

/* Streams registered now. */
long subs_count(struct subs *subs);

#endif
