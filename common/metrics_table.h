/* metrics_table.h - every metric Code Insight exposes, in one table
 * (name, type, help, buckets, which process): the ids below index it.
 * docs/operations.md lists the same metrics.
 */
#ifndef CI_METRICS_TABLE_H
#define CI_METRICS_TABLE_H

struct err;

enum ci_metric {
    /* gateway */
    MET_HTTP_REQUESTS,          /* {route, method, status} */
    MET_HTTP_DURATION,          /* {route, method} */
    MET_HTTP_IN_FLIGHT,
    MET_HTTP_WAITING,           /* requests queued for a waiting thread */
    MET_RATE_LIMITED,           /* {route} */
    MET_ADMISSIONS,             /* {outcome} */
    MET_QUEUE_READ_OK,          /* 1 when the queue gauges below were read at this scrape */
    MET_STREAM_LENGTH,          /* {stream}; read from Redis at scrape time */
    MET_STREAM_PENDING,         /* {stream} */
    MET_STREAM_LAG,             /* {stream}; omitted when Redis cannot tell */
    MET_DEAD_LETTERS,           /* {stream} */
    MET_DEFERRED_JOBS,          /* {stream} */
    MET_SSE_SUBSCRIBERS,        /* open GET /job/:id/events streams */
    MET_SSE_EVENTS,             /* events queued to those streams */
    /* worker */
    MET_JOBS,                   /* {type, outcome} */
    MET_JOB_DURATION,           /* {type} */
    MET_JOBS_IN_FLIGHT,
    MET_RECLAIMED,
    MET_DEAD_LETTERED,
    MET_MODEL_CALLS,            /* {provider, outcome} */
    MET_MODEL_DURATION,         /* {provider} */
    MET_MODEL_IN_FLIGHT,
    MET_MODEL_TOKENS,           /* {kind} */
    MET_MODEL_COST,
    MET_PROMPT_CACHE,           /* {result} */
    MET_MODEL_FIXES,            /* {form, outcome} */
    MET_HISTORY_WRITES,         /* {outcome}: the MongoDB job-history sink */
    MET_HISTORY_QUEUE,          /* documents waiting for it */
    MET__COUNT
};

/* Registers the table with the metrics registry, enabling the families of
 * the processes in procs (CFG_GATEWAY, CFG_WORKER). Call once before threads
 * start; metrics_cleanup() undoes it. Returns ERR_OK or an error. */
int metrics_table_init(unsigned procs, struct err *e);

#endif
