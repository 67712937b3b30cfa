/* handlers.h - route handlers. Each one answers through respond.h exactly once. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

struct request;

/* POST /review: validates, enqueues, answers 202 with the job id. (review.c) */
void handle_review(struct request *req);

/* GET /job/:id: the job from Redis, or from PostgreSQL once expired. (jobs.c) */
void handle_job_get(struct request *req);

/* DELETE /job/:id: cancels a queued job at once (200, status cancelled) or
 * asks the worker running it to stop (202, cancel_requested); 409
 * job_finished when it is done or failed. (job_cancel.c) */
void handle_job_cancel(struct request *req);

/* GET /job/:id/events: the job's status changes and pipeline steps as
 * text/event-stream, live until its final event. (job_events.c) */
void handle_job_events(struct request *req);

/* GET /healthz: the process is alive. GET /readyz: Redis and PostgreSQL
 * answer. (health.c) */
void handle_healthz(struct request *req);
void handle_readyz(struct request *req);

/* GET /jobs: the caller's jobs, newest first, cursor-paginated. (jobs.c) */
void handle_jobs_list(struct request *req);

/* GET /usage: this month's usage by task type. (usage.c) */
void handle_usage(struct request *req);

/* GET /metrics: Prometheus text, no identity needed. (scrape.c) */
void handle_metrics(struct request *req);

/* GET /queue/info: per stream backlog, consumers, drain rate and
 * recommended_workers. (queue.c) */
void handle_queue_info(struct request *req);

/* GET /stats: system-wide counts and the queue numbers. (stats.c) */
void handle_stats(struct request *req);

/* GET /whoami. (whoami.c) */
void handle_whoami(struct request *req);

/* POST /auth/login. (login.c) */
void handle_login(struct request *req);

/* POST /keys, GET /keys, DELETE /keys/:id. (keys.c) */
void handle_keys_create(struct request *req);
void handle_keys_list(struct request *req);
void handle_keys_revoke(struct request *req);

/* GET /openapi.json: the API document (docs/openapi.yaml) as JSON. (openapi.c) */
void handle_openapi(struct request *req);
/* POST /apply-fix: a reviewed fix applied to the reviewed file with the
 * caller's approval; the patched text back, the attempt audited.
 * (apply_fix.c) GET /audit: the caller's audit rows. (audit.c) */
void handle_apply_fix(struct request *req);
void handle_audit_list(struct request *req);

#endif
