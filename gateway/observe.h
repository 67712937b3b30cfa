/* observe.h - what the gateway counts about its own traffic: requests by
 * route pattern, method and status, their latency, rate-limit refusals and
 * admission outcomes (common/metrics_table.h names them). */
#ifndef GW_OBSERVE_H
#define GW_OBSERVE_H

struct request;

/* Records a finished request (route pattern, or "unmatched" when no route
 * matched; method; status) and its duration in seconds. A request that was
 * never answered (client gone first) is not counted. */
void observe_request(const struct request *req, double seconds);

/* Counts one admission outcome of POST /review: "admitted", "throttled",
 * "degraded", "replayed" or "cached" (a borrowed literal). */
void observe_admission(const char *outcome);

#endif
