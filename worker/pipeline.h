/* pipeline.h - one job's steps: start -> lint -> persist -> publish + ack.
 *
 * Each step is asynchronous on the worker's loop. A transient failure
 * (Redis or PostgreSQL down) retries the step with capped exponential
 * backoff and jitter; the stream entry stays pending (unacknowledged) until
 * the result is both persisted and published.
 *
 * The documents are always UTF-8 (a byte that is not becomes '?', logged as
 * job_result_not_utf8). A document PostgreSQL refuses (an error reply, not
 * an outage) three times in a row would be refused forever, so a smaller one
 * replaces it, each after three refusals (job_persist_rejected, "stored":
 * the form tried next): the job failed with "the result could not be stored"
 * and no findings, task members or files; then that without any text a
 * client, a linter or a run wrote (no notes, linters, degraded reason,
 * file_path, repo_id, request_id). If PostgreSQL refuses even that eight
 * times, the backoff growing (some two minutes by default), the job is not
 * stored there: the hot copy (failed, the minimal result) is published and
 * the entry acknowledged (job_persist_abandoned). That loses least: a
 * pending entry retried forever holds a worker slot, is never answered and
 * is delivered again to fail the same way. Its id answers until the hot
 * copy expires; PostgreSQL has no row and no ledger row for it.
 */
#ifndef WK_PIPELINE_H
#define WK_PIPELINE_H

#include "common/json.h"
#include "common/kv_async.h"

struct worker;
struct pipeline_job;

/* Takes over one stream entry: entry_id and fields (a flat cJSON array of
 * field, value strings; borrowed: what is needed is copied). Always
 * accounts the job in w->inflight until it calls worker_job_released(). */
void pipeline_begin(struct worker *w, const char *entry_id, const cJSON *fields);

/* 1 when an entry is already being processed here (a reclaim must skip it). */
int pipeline_holds(const struct worker *w, const char *entry_id);

/* Fills entry_ids and job_ids (borrowed until the jobs finish), index by
 * index, with the entry id and the job id ("" when not known yet) of each
 * job in memory that is still this worker's (not given back by
 * pipeline_release_all), at most max; returns how many. */
int pipeline_held(const struct worker *w, const char **entry_ids, const char **job_ids, int max);

/* Its owner cancelled job job_id (WORKER_CHANNEL): when it is in memory
 * and not past its model step, it ends as cancelled, with no findings: its
 * model call is aborted at once (the tokens of an aborted call are not
 * charged), a step under way (linters, a Redis call, a retry's wait) is let
 * finish first. Returns 1 when the job was here to cancel, else 0. */
int pipeline_cancel(struct worker *w, const char *job_id);

/* Shutdown past the deadline, first step: stops the task every job is
 * waiting for (model step, debug, architecture or stress; worker/cancel.h).
 * Its callback never runs, so nothing is persisted or acknowledged; its
 * model call is aborted, its sandbox run killed, its load stopped, and what
 * it holds is freed (a model question waiting for its prompt-cache lookup
 * is freed when the lookup fails, as kv_async_free makes it). The jobs stay
 * in memory for pipeline_abandon_all. Call before the connections are
 * closed, so that none of their failures reaches a task; the model client
 * and the sandbox must still exist. Returns how many tasks were stopped. */
int pipeline_cancel_tasks(struct worker *w);

/* At the shutdown deadline, before the connections close: stops each job
 * still linting or asking the model (its task cancelled, no further step)
 * and sends job_release.lua for it, so that its next delivery does not
 * count as another attempt (a drain is not a crash) and a live worker
 * takes the entry over at once (not a visibility timeout later). The job
 * is no longer kept fresh by this worker's heartbeat. cb(arg = w) runs
 * once per script sent. Returns how many were sent. */
int pipeline_release_all(struct worker *w, kv_async_cb *cb);

/* Drops every job still in memory without acknowledging it (shutdown past
 * the deadline): its entry stays pending for another worker. A task still
 * running is cancelled first, as pipeline_cancel_tasks does. Returns how
 * many were dropped. */
int pipeline_abandon_all(struct worker *w);

#endif
