/* stress_report.h - counting a stress test's outcomes and reporting them.
 * Pure: no I/O or clock, so every number is unit-tested
 * (tests/unit/test_stress_report.c).
 *
 *     struct stress_tally t;
 *     stress_tally_init(&t, "GET", "/users", max_requests);
 *     stress_tally_sent(&t);
 *     stress_tally_response(&t, 200, 12.5);        // or stress_tally_failure(&t, 1)
 *     cJSON *r = stress_report_json(base_url, 10.0, "duration", &t, 1);
 *     stress_tally_cleanup(&t);
 *
 * Latency percentiles use the nearest-rank method: pN is the smallest sample
 * with at least N% of the samples at or below it.
 */
#ifndef WK_STRESS_REPORT_H
#define WK_STRESS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"

/* Statuses counted one by one: 0..STRESS_STATUS_MAX - 1 (libcurl reports
 * three digits). */
#define STRESS_STATUS_MAX 1000

/* Endpoints named in "slowest". */
#define STRESS_SLOWEST_MAX 3

/* What one endpoint (a request of the spec) has seen. */
struct stress_tally {
    const char *method;         /* borrowed */
    const char *path;           /* borrowed */
    long requests;              /* sent */
    long completed;             /* responses received, any status */
    long client_errors;         /* responses 400..499 */
    long server_errors;         /* responses >= 500 */
    long transport_errors;      /* no complete response, timeouts included */
    long timeouts;
    long status[STRESS_STATUS_MAX]; /* responses by status */
    uint32_t *latency_us;       /* owns; one sample per response, [0..nlat) */
    size_t nlat;
    size_t cap;                 /* samples allocated */
    size_t max;                 /* samples kept at most */
};

/* Starts an empty tally keeping at most max_samples latencies. */
void stress_tally_init(struct stress_tally *t, const char *method, const char *path,
                       size_t max_samples);

/* Releases the samples; safe twice and on a zeroed struct. */
void stress_tally_cleanup(struct stress_tally *t);

/* Counts a request sent. */
void stress_tally_sent(struct stress_tally *t);

/* Counts a response with its status and latency (ms, clamped to 0..4e6).
 * Returns 0, or -1 when memory ran out (the response is counted, its latency
 * is not). Past max samples the latency is dropped. */
int stress_tally_response(struct stress_tally *t, long status, double latency_ms);

/* Counts a request that got no complete response. */
void stress_tally_failure(struct stress_tally *t, int timed_out);

/* Nearest-rank percentile pct (1..100) of sorted[0..n), n > 0. */
uint32_t stress_percentile(const uint32_t *sorted, size_t n, int pct);

/* The report of a run (sorts each tally's samples in place):
 * {"base_url", "duration_s", "requests_sent", "completed", "errors",
 *  "client_errors", "transport_errors", "timeouts", "error_rate",
 *  "throughput_rps", "latency_ms": {"p50","p90","p95","p99","max","mean"},
 *  "status_counts": {"200": n, ...}, "endpoints": [{"method", "path",
 *  "requests", "completed", "errors", "client_errors", "transport_errors",
 *  "timeouts", "error_rate", "status_counts", "throughput_rps",
 *  "latency_ms"}], "slowest": [{"method", "path", "p95_ms"}], "stopped"}.
 * errors = transport errors (timeouts included) + responses >= 500; the
 * error rate is errors / requests sent (0 when none); throughput is
 * responses per second of duration_s; latency_ms members are null when there
 * was no response. "slowest" holds up to STRESS_SLOWEST_MAX endpoints with
 * responses, by p95, slowest first. Returns the object (owns) or NULL when
 * memory ran out. */
cJSON *stress_report_json(const char *base_url, double duration_s, const char *stopped,
                          struct stress_tally *t, size_t n);

#endif
