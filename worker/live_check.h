/* live_check.h - codeinsight-worker --check-live: a container health check.
 *
 * Asks the worker's own GET /livez (common/metrics_http.h) on the metrics
 * listener the environment configures (CODEINSIGHT_METRICS_PORT, and
 * CODEINSIGHT_METRICS_BIND: 0.0.0.0 is asked on 127.0.0.1), so an image
 * needs no curl for its HEALTHCHECK. It reads those two variables and no
 * other: the worker's other settings are not its business.
 *
 *     HEALTHCHECK CMD ["codeinsight-worker", "--check-live"]
 */
#ifndef WK_LIVE_CHECK_H
#define WK_LIVE_CHECK_H

/* Seconds the whole check may take. */
#define LIVE_CHECK_TIMEOUT_S 3

/* Runs the check. Returns 0 when /livez answered 200 (live, or starting);
 * 1 when it answered otherwise (stalled) or nothing answered, saying which
 * on stderr; 2 when one of those two variables is invalid or there is no
 * listener (CODEINSIGHT_METRICS_PORT 0). */
int live_check_main(void);

#endif
