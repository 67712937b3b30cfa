/* pipeline.h - one job's steps: start -> lint -> persist -> publish + ack.
 *
 * Each step is asynchronous on the worker's loop. A transient failure
 * (Redis or PostgreSQL down) retries the step with capped exponential
 * backoff and jitter; the stream entry stays pending (unacknowledged) until
 * the result is both persisted and published.
 */
#ifndef WK_PIPELINE_H
#define WK_PIPELINE_H

#include "common/json.h"

struct worker;
struct pipeline_job;

/* Takes over one stream entry: entry_id and fields (a flat cJSON array of
 * field, value strings; borrowed: what is needed is copied). Always
 * accounts the job in w->inflight until it calls worker_job_released(). */
void pipeline_begin(struct worker *w, const char *entry_id, const cJSON *fields);

/* 1 when an entry is already being processed here (a reclaim must skip it). */
int pipeline_holds(const struct worker *w, const char *entry_id);

/* Fills ids (borrowed until the jobs finish) with the entry ids of the jobs
 * in memory, at most max; returns how many. */
int pipeline_entry_ids(const struct worker *w, const char **ids, int max);

/* Drops every job still in memory without acknowledging it (shutdown past
 * the deadline). Returns how many were dropped. */
int pipeline_abandon_all(struct worker *w);

#endif
