/* worker.h - a worker process: one pool, one stream, one consumer, one loop. */
#ifndef WK_WORKER_H
#define WK_WORKER_H

#include <stdint.h>

#include "common/job.h"
#include "common/json.h"
#include "common/kv.h"
#include "common/log_streak.h"
#include "worker/answer_version.h"
#include "worker/launcher.h"
#include "worker/model_step.h"

/* GET /livez on the metrics listener (common/metrics_http.h) reports the
 * worker stalled once its loop has not ticked (every 250 ms) for this long:
 * nothing the loop runs takes a fraction of that. */
#define WORKER_STALL_MS 30000

struct channel_watch;
struct config;
struct db_async;
struct err;
struct kv_async;
struct lint_pool;
struct loop;
struct loop_timer;
struct metrics_http;
struct mongo_sink;
struct pipeline_job;
struct sandbox;
struct target_policy;

struct worker {
    const struct config *cfg;       /* borrowed, read-only */
    struct loop *loop;
    struct kv_url kv_url;
    struct kv_async *kv_read;       /* only the blocking XREADGROUP */
    struct kv_async *kv;            /* every other command */
    struct channel_watch *channel;  /* cancels of running jobs, released entries */
    struct db_async *db;
    struct launcher launcher;       /* the sandbox launcher (linters, Debug Doctor) */
    struct lint_pool *lint;
    struct llm *llm;                /* the model client (offline: no calls) */
    struct prompt_set *prompts;
    struct model_ctx model;         /* what every job's model step shares */
    char answers[JOB__TYPES][ANSWER_VERSION_LEN];   /* by job type: the answer version of
                                                       each task of this pool, else "" */
    char answers_all[JOB__TYPES * ANSWER_VERSION_LEN];  /* those, space-separated */
    char answers_key[96];           /* "answers:<stream>", where they are published */
    int answers_published;          /* Redis took them once: refreshed with each heartbeat */
    struct sandbox *sandbox;        /* heavy pool: Debug Doctor runs; else NULL */
    struct target_policy *stress_policy;    /* CODEINSIGHT_STRESS_ALLOWED_HOSTS */
    struct mongo_sink *history;     /* CODEINSIGHT_MONGO_URL; NULL: off */
    struct metrics_http *health;    /* borrowed: beaten every tick (GET /livez); NULL: none */
    int ticks;
    int reclaiming;                 /* an XAUTOCLAIM is outstanding */
    int reclaim_due;                /* one runs at the next tick (worker_reclaim_soon, or
                                       a pass over the pending entries goes on) */
    char reclaim_cursor[32];        /* where that pass goes on: XAUTOCLAIM's start */
    int64_t last_heartbeat_ms;      /* monotonic */
    int64_t last_reclaim_ms;
    int64_t last_prune_ms;          /* monotonic: consumers holding nothing removed */
    int leaving;                    /* stopping: 1 removing its consumer, 2 done */
    int64_t reclaimed;
    const char *pool;               /* "fast" | "heavy" */
    const char *stream;
    const char *group;
    char consumer[96];              /* unique per process */
    long concurrency;               /* jobs in flight at most */
    int inflight;
    int reading;                    /* an XREADGROUP is outstanding */
    struct log_streak read_streak;      /* reads failing in a row (refused, connection lost) */
    struct log_streak group_streak;     /* XGROUP CREATE failing in a row */
    struct log_streak answers_streak;   /* the answer versions' SET failing in a row */
    int group_ready;
    int started;                    /* worker_started was logged (so worker_stopped is) */
    int stopping;
    int64_t stop_deadline_ms;       /* monotonic; valid when stopping */
    int64_t release_until_ms;       /* monotonic; past the deadline: job_release replies awaited */
    int releasing;                  /* job_release.lua calls outstanding */
    struct loop_timer *tick;
    struct pipeline_job *jobs;      /* every job in memory */
    int64_t jobs_done, jobs_failed;
};

/* Sets up connections and starts consuming `pool` ("fast" or "heavy").
 * Returns ERR_OK or an error (nothing left to free then). */
int worker_start(struct worker *w, struct loop *loop, const struct config *cfg,
                 const char *pool, struct err *e);

/* Stops reading; in-flight jobs get until the shutdown grace, then the loop
 * stops. Safe to call twice. */
void worker_stop(struct worker *w);

/* Frees everything; jobs still in memory stay pending in Redis for another
 * worker, their tasks cancelled first (pipeline_cancel_tasks: no model
 * call, sandbox run or load outlives them). Call after the loop returned.
 * Returns 0, or -1 when the MongoDB history writer was left running (a
 * write outlived its drain, mongo_sink_free): end the process with _exit. */
int worker_cleanup(struct worker *w);

/* Called by the pipeline when a job left memory (done, failed or abandoned):
 * updates counters and reads more work. */
void worker_job_released(struct worker *w, int ok);

/* Entries another worker gave back ("released <stream>" on WORKER_CHANNEL)
 * are taken at the next tick: one pass over the stream's pending entries
 * from the start, not a visibility timeout later. Nothing when stopping. */
void worker_reclaim_soon(struct worker *w);

#endif
