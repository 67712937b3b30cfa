/* gate.h - admission of requests: identity (through the Redis cache) and the
 * route class' token bucket in one script call, and the rate-limit headers.
 * Submissions use admit.lua instead (review.c), which contains the same gate. */
#ifndef GW_GATE_H
#define GW_GATE_H

#include "common/json.h"
#include "common/plans.h"

struct err;
struct identity;
struct request;

/* Authenticates the request and takes a token from its bucket for class rc.
 * Returns 0 with id filled (user_id, key_id, email, plan, is_operator) and the
 * RateLimit-* headers set, or answers (401, 429, 503) and returns -1.
 * read_job, when not NULL, is a job id whose hot copy is read in the same
 * script call (job_read in common/job.h): its flat fields go to
 * req->prefetched (owned by the request).
 * On a request thread (req->waits 0), an identity missing from the Redis
 * cache is not read from PostgreSQL there: GATE_MISS is returned, nothing
 * answered, and the caller hands the request to a waiting thread that
 * fills the cache (auth_fill_cache) and sets req->filled before the
 * request runs again (server.c). */
#define GATE_MISS 1
int gate_or_respond(struct request *req, enum route_class rc, struct identity *id,
                    const char *read_job);

/* Status word of a script reply ("ok", "miss", "limited", ...); "" when malformed. */
const char *gate_reply_status(const cJSON *reply);

/* Integer at position i of a script reply; 0 when absent. */
long gate_reply_num(const cJSON *reply, int i);

/* String at position i of a script reply; "" when absent. */
const char *gate_reply_str(const cJSON *reply, int i);

/* Sets RateLimit-Limit, -Remaining and -Reset. */
void gate_rate_headers(struct request *req, long limit, long remaining, long reset);

/* Answers a refusal every script shares: 'revoked' (401), 'unknown' (401:
 * PostgreSQL said a moment ago that id's credential names no one, so it is
 * not asked again; auth_fill_cache) or 'limited' (429 with Retry-After;
 * reply = {'limited', limit, remaining, reset, retry}). Returns 1 when it
 * answered, 0 when the reply is none of these. */
int gate_refusal_or_respond(struct request *req, const struct identity *id, const cJSON *reply);

/* A bucket's refusal: sets RateLimit-Limit, -Remaining, -Reset and
 * Retry-After from reply's numbers at positions from..from+3 (limit,
 * remaining, reset, retry_after) and fills e with 429 rate_limited
 * "<what>; retry in N s". Returns ERR_RATE_LIMITED. */
int gate_limited(struct request *req, const cJSON *reply, int from, const char *what,
                 struct err *e);

/* Buckets without an identity (ratelimit.lua), for a limited route: takes
 * a token from each of the n buckets keys[i], limited by rates[i]. Returns
 * 1 when every bucket had one (the tightest bucket's RateLimit-* headers
 * set); 0 when one had none (gate_limited: e and the headers set, what
 * "too many ..."); -1 on a Redis error (e set). */
#define GATE_BUCKETS_MAX 4
int gate_buckets(struct request *req, int n, const char *const *keys, const struct rate *rates,
                 const char *what, struct err *e);

/* Answers an error from a script call: 401 codes with WWW-Authenticate,
 * availability errors with Retry-After. */
void gate_respond_error(struct request *req, const struct err *e);

#endif
