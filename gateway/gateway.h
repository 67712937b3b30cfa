/* gateway.h - the gateway's context, shared read-only by every request thread. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <pthread.h>
#include <stdint.h>

#include "common/cidr.h"
#include "common/db.h"
#include "common/jwt.h"
#include "common/kv.h"

struct config;
struct err;
struct jwks;

struct target_policy;
struct view_cache;
struct subs;
struct events;
struct idc;
struct offload;
struct request;

struct gateway {
    const struct config *cfg;       /* borrowed, read-only */
    struct kv_url kv_url;           /* parsed REDIS_URL */
    pthread_key_t conns_key;        /* per-thread struct conns */
    void *daemon;                   /* struct MHD_Daemon * */
    struct offload *waiters;        /* owns: threads of the ROUTE_WAITS routes (server.c) */
    struct offload *admitter;       /* owns: the admission threads (admit.h) */
    unsigned port;                  /* bound port */
    int active;                     /* requests in progress (atomic) */
    int stopping;                   /* server_stop has begun (atomic) */
    int64_t kv_connected_at;        /* monotonic ms of a thread's last Redis connect (atomic) */
    struct db_abort db_abort;       /* every thread's PostgreSQL queries, given up at shutdown */
    struct jwt_verifier own_jwt;    /* tokens from POST /auth/login */
    struct jwt_verifier ext_jwt;    /* Supabase tokens; ext_enabled says whether */
    int ext_enabled;
    struct jwks *jwks;              /* owns; NULL without SUPABASE_JWKS_URL */
    char dummy_pwhash[128];         /* verified for unknown emails: equal timing */
    struct target_policy *stress_policy;    /* owns: CODEINSIGHT_STRESS_ALLOWED_HOSTS */
    struct view_cache *views;       /* owns: finished jobs' views; NULL when off */
    struct idc *idents;             /* owns: identities and leased tokens; NULL when off */
    struct cidr_list trusted;       /* CODEINSIGHT_TRUSTED_PROXIES */
    struct subs *subs;              /* owns: GET /job/:id/events streams */
    struct events *events;          /* owns: the thread feeding them */
};

/* Starts listening with a pool of request threads and one of waiting
 * threads. Returns ERR_OK or an error. */
int server_start(struct gateway *gw, struct err *e);

/* Stops accepting, ends every event stream, finishes requests in progress
 * and joins the threads, in about 10 s at most (server.c: the requests
 * still waiting on PostgreSQL then are given up, answered 503). Returns 0;
 * or the number of threads that did not return even then (PostgreSQL not
 * answering a cancel request): the server is left running and everything
 * they may use allocated, for the caller to _exit without freeing it. */
int server_stop(struct gateway *gw);

/* Suspend and resume an HTTP connection (struct MHD_Connection *, borrowed),
 * for event streams (subs.h): suspend only from its content reader; resume
 * from any thread, once per suspension. */
void server_suspend(void *conn);
void server_resume(void *conn);

/* From a request thread: continues req on pool (offload.h): suspends its
 * connection (req->waits: responses are held) and queues fn(arg) (arg
 * alone for a batched pool). The pool's side answers and ends with
 * server_resume(req->conn), after which it touches req no more; so does
 * the caller, at once. Returns 0, or -1 when the pool refused: req was then
 * answered 503 server_busy. */
int server_hand_over(struct request *req, struct offload *pool, void (*fn)(void *arg),
                     void *arg);

/* From a request thread's handler that found it must read PostgreSQL:
 * runs the route's handler again, from the start, on a waiting thread
 * (where req->waits is set), which answers. Returns as server_hand_over;
 * the handler returns at once either way. */
int server_rerun_waiting(struct request *req);

/* Answers 503 server_busy with Retry-After: a queue of waiting work is full. */
void server_respond_busy(struct request *req);

/* This thread's Redis connection, (re)connected on demand; NULL with e set
 * (ERR_REDIS_UNAVAILABLE). Borrowed: valid until the handler returns. */
struct kv *gateway_kv(struct gateway *gw, struct err *e);

/* Same for PostgreSQL (ERR_DATABASE_UNAVAILABLE), whose schema must be the
 * version this build needs or a later one (MIGRATE_SCHEMA_NEEDED): read
 * after each (re)connection; an older one is refused as PostgreSQL away,
 * and read again at most every second. */
struct db *gateway_db(struct gateway *gw, struct err *e);

/* 1 when this thread's last gateway_db returned NULL because the schema
 * was older than this build needs (not an outage). */
int gateway_db_outdated(struct gateway *gw);

/* Sets up the per-thread connection slots. Returns 0 or -1. */
int gateway_conns_init(struct gateway *gw);

/* Frees the calling thread's connections (the main thread at exit). */
void gateway_conns_cleanup(struct gateway *gw);

#endif
