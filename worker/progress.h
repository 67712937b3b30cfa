/* progress.h - a job's pipeline steps as live events (GET /job/:id/events).
 *
 * Status changes (running, done, failed, deferred, requeued) ride inside the
 * job scripts; the steps in between are sent here, one EVALSHA of
 * job_event.lua each, without waiting for the reply: an event that cannot
 * be sent is logged at debug level and lost (the job's status is not).
 * Commands on the worker's connection keep their order, so a step always
 * precedes the job_finish that follows it.
 */
#ifndef WK_PROGRESS_H
#define WK_PROGRESS_H

#include "common/json.h"

struct lint_result;
struct model_out;
struct worker;

/* Sends event `type` ("linted", "model_called", ...) of job job_id (its hot
 * copy is key). data (takes; may be NULL) holds the step's details; type,
 * job_id and at (now, RFC 3339) are added. */
void progress_emit(struct worker *w, const char *job_id, const char *key, const char *type,
                   cJSON *data);

/* "linted": the linters ran; how many findings, and the tools that ran
 * ("status": "ok"). */
void progress_linted(struct worker *w, const char *job_id, const char *key,
                     const struct lint_result *lint);

/* "model_called": the model step finished (answered, from the cache, or
 * skipped with a degraded reason). */
void progress_model_called(struct worker *w, const char *job_id, const char *key,
                           const struct model_out *m);

#endif
