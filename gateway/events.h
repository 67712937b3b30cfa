/* events.h - the events thread: live job events from Redis to the streams
 * of GET /job/:id/events (subs.h).
 *
 * One thread per gateway process runs its own event loop with one Redis
 * connection subscribed to JOB_EVENTS_CHANNEL and one for commands. Every
 * message "<job id> <entry id> <type> <json>" becomes one SSE frame queued
 * for the job's streams; a timer queues a heartbeat comment for every idle
 * stream each heartbeat_s seconds (it keeps proxies from closing the
 * connection and finds clients that went away). After the subscription
 * comes back from a Redis outage, each job's streams are caught up from its
 * stored events (XRANGE jobev:<id>), so an outage delays events, never
 * loses them.
 *
 * The same thread keeps the gateway's own identity copies honest
 * (ident_cache.h): a third connection, subscribed to IDC_CHANNEL, drops the
 * copy of each revoked identity published there, and all of them whenever
 * the subscription had to be renewed (messages may have been missed).
 */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <stddef.h>

#include "common/json.h"
#include "gateway/sse.h"

struct err;
struct events;
struct idc;
struct kv_url;
struct subs;

/* Starts the thread. subs, idents (may be NULL) and url are borrowed until
 * events_stop. Returns the thread's handle (owns; events_stop) or NULL with
 * e set. */
struct events *events_start(const struct kv_url *url, struct subs *subs, struct idc *idents,
                            long heartbeat_s, long max_jobs, struct err *e);

/* Stops the thread (within a fraction of a second), closes its
 * connections, frees. Accepts NULL. */
void events_stop(struct events *ev);

/* The SSE frame of one XRANGE entry of a job's event stream ([id, [field,
 * value, ...]] with fields type and data). Returns it (owns; free()) with
 * its length, id and whether it is the job's final event, or NULL when the
 * entry is malformed or too large (SSE_TYPE_MAX, SSE_DATA_MAX). */
char *events_entry_frame(const cJSON *entry, struct sse_id *id, size_t *len, int *final);

#endif
