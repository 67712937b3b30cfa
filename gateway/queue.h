/* queue.h - the job streams as operators see them: backlog, work in
 * progress, dead letters, deferred jobs, consumers and the recent drain
 * rate, read in one script call per stream (schema/redis/queue_info.lua);
 * and the worker count that would drain the backlog in
 * CODEINSIGHT_TARGET_DRAIN_S. Used by GET /queue/info, /stats and /metrics.
 */
#ifndef GW_QUEUE_H
#define GW_QUEUE_H

#include <stdint.h>

#include "common/json.h"

struct err;
struct kv;

#define QUEUE_STREAMS 2             /* review_jobs, review_jobs:heavy */
#define QUEUE_WINDOW_MIN 5          /* minutes of completions the drain rate covers */
#define QUEUE_CONSUMERS_MAX 32      /* consumers listed per stream (all are counted) */
#define QUEUE_ACTIVE_IDLE_MS 60000  /* a consumer seen within this is active: workers
                                       read or refresh their entries far more often */

struct queue_consumer {
    char name[96];                  /* truncated */
    long long pending;              /* entries it holds */
    long long idle_ms;              /* since it last read or claimed */
};

struct queue_snapshot {
    const char *stream;             /* static */
    const char *group;
    const char *pool;
    int64_t now_ms;                 /* Redis' clock */
    long long length;               /* XLEN: waiting + in progress (acknowledged entries
                                       are deleted) */
    int has_group;                  /* 0 until a worker created the group */
    long long pending;              /* delivered, not acknowledged */
    int has_lag;
    long long lag;                  /* not yet delivered; valid when has_lag */
    char oldest_id[48];             /* oldest pending entry, "" when none */
    double oldest_age_s;            /* its age by its id's timestamp; valid when oldest_id[0] */
    long long dead_letters;         /* XLEN <stream>:dead */
    long long deferred;             /* ZCARD deferred:<stream> */
    long long done[QUEUE_WINDOW_MIN];   /* completions per minute, oldest first */
    long long done_window;          /* their sum */
    double window_s;                /* seconds they cover (the current minute in part) */
    int consumers_total;
    int consumers_active;           /* idle < QUEUE_ACTIVE_IDLE_MS */
    int n_listed;
    struct queue_consumer listed[QUEUE_CONSUMERS_MAX];
};

/* Name of stream i (0 .. QUEUE_STREAMS-1): "review_jobs", "review_jobs:heavy". */
const char *queue_stream_name(int i);

/* Stream i in one EVALSHA. kv is borrowed. Returns
 * ERR_OK with out filled, or the kv error (ERR_PROTOCOL for a malformed
 * reply). */
int queue_read(struct kv *kv, int i, struct queue_snapshot *out, struct err *e);

/* Completions per second over the window. */
double queue_rate_per_s(const struct queue_snapshot *q);

/* Completions per second per active worker; 0 when nothing completed. */
double queue_rate_per_worker_s(const struct queue_snapshot *q);

/* Workers that would drain backlog entries in target_s seconds at
 * rate_per_worker_s each: ceil(backlog / (rate_per_worker_s * target_s)).
 * Without a measured rate, max(1, active) while there is a backlog. Never
 * below 1 while jobs are deferred (a worker puts them back when due), 0 when
 * there is nothing to do. */
long queue_recommended_workers(long long backlog, long long deferred, double rate_per_worker_s,
                               long target_s, int active);

/* The snapshot as GET /queue/info shows one stream (owns), or NULL when
 * out of memory. */
cJSON *queue_snapshot_json(const struct queue_snapshot *q, long target_s);

#endif
