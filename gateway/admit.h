/* admit.h - the admission of a validated submission (POST /review):
 * admit.lua's arguments, the script call, and the answer to each outcome.
 *
 * A request thread prepares the admission and hands it to the gateway's
 * admission threads, a batched offload pool (offload.h): every admission
 * queued while the previous batches ran goes to Redis in ONE EVALSHA, so a
 * busy gateway pays one round trip, one Lua call and one reply for many
 * submissions. The connection stays suspended meanwhile; the common
 * answers (202, a replay, a refusal) are made on the admission threads. The
 * outcomes that need PostgreSQL (an identity missing from Redis, a budget
 * counter to restore from the ledger) or a job's view (a result-cache hit)
 * continue on a waiting thread, which runs the script again when needed.
 *
 *     gw->admitter = admit_pool_new(gw, &e);   before the server starts
 *     admit_submit(req, &id, &r, idem);       from handle_review, once
 *     offload_free(gw->admitter);             after the drain
 */
#ifndef GW_ADMIT_H
#define GW_ADMIT_H

struct err;
struct gateway;
struct identity;
struct request;
struct review_request;

/* Admissions sent in one script call at most. */
#define ADMIT_BATCH_MAX 32
/* Admission threads, each with its own Redis connection: while one
 * answers its batch (and Redis would idle), the other's batch runs. Redis
 * runs scripts one at a time, so more would only split the batches. */
#define ADMIT_THREADS 2

/* The admission threads of gw: a batched pool with room for
 * CODEINSIGHT_HTTP_WAIT_QUEUE admissions. NULL with e set on failure. */
struct offload *admit_pool_new(struct gateway *gw, struct err *e);

/* Admits r for the caller id (Idempotency-Key idem, or NULL), both checked
 * by the caller, and answers the request. Takes r (cleaned up here); id and
 * idem are copied. On a request thread the request is suspended and
 * answered later: the caller returns at once and touches req no more
 * (req->waits is set). A full admission queue answers 503 server_busy. */
void admit_submit(struct request *req, const struct identity *id, struct review_request *r,
                  const char *idem);

#endif
