/* handlers.h - route handlers. Each one answers through respond.h exactly once. */
#ifndef GW_HANDLERS_H
#define GW_HANDLERS_H

struct request;

/* POST /review: validates, enqueues, answers 202 with the job id. (review.c) */
void handle_review(struct request *req);

/* GET /job/:id: the job from Redis, or from PostgreSQL once expired. (jobs.c) */
void handle_job_get(struct request *req);

/* GET /healthz: the process is alive. GET /readyz: Redis and PostgreSQL
 * answer. (health.c) */
void handle_healthz(struct request *req);
void handle_readyz(struct request *req);

#endif
