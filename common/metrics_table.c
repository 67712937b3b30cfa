/* metrics_table.c - the table of Code Insight's metrics. */
#include "common/metrics_table.h"

#include "common/config.h"
#include "common/metrics.h"

/* Request latencies: a millisecond to ten seconds. */
static const double http_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,  0.5,    1,     2.5,  5,     10};
/* A job: linters and a model call, up to the shutdown-grace scale. */
static const double job_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
/* A model call, retries included. */
static const double model_buckets[] = {0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};

#define N(a) ((int)(sizeof a / sizeof a[0]))

static const char *const none[] = {"", NULL};

static const char *const admissions[] = {
    "outcome=\"admitted\"", "outcome=\"throttled\"", "outcome=\"degraded\"",
    "outcome=\"replayed\"", "outcome=\"cached\"", "outcome=\"queue_full\"", NULL};

#define JOB_OUTCOMES(t)                                                                   \
    "type=\"" t "\",outcome=\"done\"", "type=\"" t "\",outcome=\"failed\"",               \
    "type=\"" t "\",outcome=\"degraded\"", "type=\"" t "\",outcome=\"dead\"",             \
    "type=\"" t "\",outcome=\"deferred\"", "type=\"" t "\",outcome=\"cancelled\"",    \
    "type=\"" t "\",outcome=\"superseded\""
static const char *const jobs[] = {JOB_OUTCOMES("review"), JOB_OUTCOMES("debug"),
                                   JOB_OUTCOMES("architecture"), JOB_OUTCOMES("stress"), NULL};
#undef JOB_OUTCOMES

static const char *const token_kinds[] = {
    "kind=\"input\"", "kind=\"output\"", "kind=\"cache_read\"", "kind=\"cache_write\"", NULL};

static const char *const cache_results[] = {"result=\"hit\"", "result=\"miss\"", NULL};

static const char *const fix_outcomes[] = {
    "form=\"lines\",outcome=\"kept\"",
    "form=\"lines\",outcome=\"redacted\"",
    "form=\"lines\",outcome=\"repeats_neighbour\"",
    "form=\"lines\",outcome=\"misplaced\"",
    "form=\"lines\",outcome=\"unchanged\"",
    "form=\"lines\",outcome=\"invalid\"",
    "form=\"lines\",outcome=\"unseen_lines\"",
    "form=\"diff\",outcome=\"kept\"",
    "form=\"diff\",outcome=\"does_not_apply\"",
    "form=\"diff\",outcome=\"redacted\"",
    "form=\"diff\",outcome=\"outside_lines\"",
    "form=\"diff\",outcome=\"unseen_lines\"",
    NULL};

#define GW CFG_GATEWAY
#define WK CFG_WORKER

/* Order = enum ci_metric. */
static const struct metric_def table[MET__COUNT] = {
    [MET_HTTP_REQUESTS] = {"codeinsight_http_requests_total", METRIC_COUNTER,
        "HTTP requests answered, by route pattern, method and status.", NULL, 0, GW, NULL},
    [MET_HTTP_DURATION] = {"codeinsight_http_request_duration_seconds", METRIC_HISTOGRAM,
        "Time from the request line to the response, by route pattern and method.",
        http_buckets, N(http_buckets), GW, NULL},
    [MET_HTTP_IN_FLIGHT] = {"codeinsight_http_requests_in_flight", METRIC_GAUGE,
        "Requests in progress, this scrape included.", NULL, 0, GW, NULL},
    [MET_HTTP_WAITING] = {"codeinsight_http_requests_waiting", METRIC_GAUGE,
        "Requests queued for a waiting thread (the routes that wait on I/O), not yet "
        "started; past CODEINSIGHT_HTTP_WAIT_QUEUE they are refused with 503 server_busy.",
        NULL, 0, GW, NULL},
    [MET_RATE_LIMITED] = {"codeinsight_rate_limited_total", METRIC_COUNTER,
        "Requests refused with 429 rate_limited, by route pattern.", NULL, 0, GW, NULL},
    [MET_ADMISSIONS] = {"codeinsight_admissions_total", METRIC_COUNTER,
        "Submissions by budget outcome at admission: admitted, throttled (over 90% of the "
        "budget), degraded (budget used up), replayed (Idempotency-Key), cached (result "
        "cache), queue_full (refused: the stream held CODEINSIGHT_QUEUE_MAX entries).", NULL,
        0, GW, admissions},
    [MET_QUEUE_READ_OK] = {"codeinsight_queue_read_ok", METRIC_GAUGE,
        "1 when the stream gauges were read from Redis at this scrape, 0 when Redis did "
        "not answer (they are omitted then).", NULL, 0, GW, NULL},
    [MET_STREAM_LENGTH] = {"codeinsight_stream_length", METRIC_GAUGE,
        "Entries in the stream (XLEN): jobs waiting or in progress.", NULL, 0, GW, NULL},
    [MET_STREAM_PENDING] = {"codeinsight_stream_pending", METRIC_GAUGE,
        "Entries delivered to a worker and not yet acknowledged (in progress).",
        NULL, 0, GW, NULL},
    [MET_STREAM_LAG] = {"codeinsight_stream_lag", METRIC_GAUGE,
        "Entries not yet delivered to the consumer group (XINFO GROUPS lag); omitted when "
        "Redis cannot tell.", NULL, 0, GW, NULL},
    [MET_DEAD_LETTERS] = {"codeinsight_dead_letters", METRIC_GAUGE,
        "Entries in the dead-letter stream <stream>:dead.", NULL, 0, GW, NULL},
    [MET_DEFERRED_JOBS] = {"codeinsight_deferred_jobs", METRIC_GAUGE,
        "Soft-throttled jobs parked in deferred:<stream>.", NULL, 0, GW, NULL},
    [MET_SSE_SUBSCRIBERS] = {"codeinsight_sse_subscribers", METRIC_GAUGE,
        "Open GET /job/:id/events streams in this process.", NULL, 0, GW, NULL},
    [MET_SSE_EVENTS] = {"codeinsight_sse_events_total", METRIC_COUNTER,
        "Job events queued to GET /job/:id/events streams, one per stream the event is "
        "queued to (history and catch-up included; events a stream's client already has, "
        "events offered to ended streams and heartbeats not counted).", NULL, 0, GW, NULL},

    [MET_JOBS] = {"codeinsight_jobs_total", METRIC_COUNTER,
        "Jobs that left the worker, by type and outcome: done, failed, degraded (static "
        "findings only because the model could not answer), dead (dead-lettered), cancelled "
        "(by its owner, while it ran), deferred (parked until due; counted again when it "
        "finishes), superseded (another delivery's result stands: this worker was cut off "
        "and the job taken over).", NULL, 0, WK, jobs},
    [MET_JOB_DURATION] = {"codeinsight_job_duration_seconds", METRIC_HISTOGRAM,
        "Time a worker spent on a job, from delivery to publication, by type.",
        job_buckets, N(job_buckets), WK, NULL},
    [MET_JOBS_IN_FLIGHT] = {"codeinsight_jobs_in_flight", METRIC_GAUGE,
        "Jobs this worker holds in memory.", NULL, 0, WK, none},
    [MET_RECLAIMED] = {"codeinsight_reclaimed_total", METRIC_COUNTER,
        "Entries taken over from a worker that stopped answering (XAUTOCLAIM).",
        NULL, 0, WK, none},
    [MET_DEAD_LETTERED] = {"codeinsight_dead_lettered_total", METRIC_COUNTER,
        "Jobs given up on after CODEINSIGHT_MAX_ATTEMPTS deliveries.", NULL, 0, WK, none},
    [MET_MODEL_CALLS] = {"codeinsight_model_calls_total", METRIC_COUNTER,
        "Model calls, by provider and outcome (ok, rate_limited, server_error, "
        "client_error, timeout, unreachable, malformed, no_text, spend_limit, circuit_open, "
        "refused). no_text: a complete reply without text (a refusal, a content filter).",
        NULL, 0, WK, NULL},
    [MET_MODEL_DURATION] = {"codeinsight_model_call_duration_seconds", METRIC_HISTOGRAM,
        "Time a model call took, retries included, by provider.", model_buckets,
        N(model_buckets), WK, NULL},
    [MET_MODEL_IN_FLIGHT] = {"codeinsight_model_calls_in_flight", METRIC_GAUGE,
        "Model calls in flight, including those waiting to retry.", NULL, 0, WK, none},
    [MET_MODEL_TOKENS] = {"codeinsight_model_tokens_total", METRIC_COUNTER,
        "Tokens the provider reported, by kind.", NULL, 0, WK, token_kinds},
    [MET_MODEL_COST] = {"codeinsight_model_cost_usd_total", METRIC_COUNTER,
        "Cost of model calls in USD (the provider's figure, else CODEINSIGHT_LLM_PRICES).",
        NULL, 0, WK, none},
    [MET_PROMPT_CACHE] = {"codeinsight_prompt_cache_lookups_total", METRIC_COUNTER,
        "Prompt-cache lookups, by result (hit, miss).", NULL, 0, WK, cache_results},
    [MET_MODEL_FIXES] = {"codeinsight_model_fixes_total", METRIC_COUNTER,
        "Fixes in the model's findings, by form (lines: the new text of the finding's "
        "lines, as the review prompt asks; diff: a unified diff) and outcome (kept: it "
        "applies to the submitted file; else why it was dropped: redacted, "
        "repeats_neighbour, misplaced, unchanged, invalid, does_not_apply, outside_lines, "
        "unseen_lines: it changes a line the prompt did not show). "
        "An answer "
        "served by the prompt cache counts again.", NULL, 0, WK, fix_outcomes},
    [MET_HISTORY_WRITES] = {"codeinsight_history_writes_total", METRIC_COUNTER,
        "Finished jobs handed to the MongoDB job-history sink (CODEINSIGHT_MONGO_URL), by "
        "outcome: written, failed (MongoDB refused or was unreachable past the retries), "
        "dropped (its queue was full). PostgreSQL holds every job either way.",
        NULL, 0, WK, NULL},
    [MET_HISTORY_QUEUE] = {"codeinsight_history_queue", METRIC_GAUGE,
        "Finished jobs waiting to be written to the MongoDB job-history sink.",
        NULL, 0, WK, NULL},
};

int metrics_table_init(unsigned procs, struct err *e)
{
    return metrics_init(table, MET__COUNT, procs, e);
}
