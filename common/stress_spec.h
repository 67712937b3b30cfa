/* stress_spec.h - what a stress test asks for (request_type "stress"),
 * parsed and checked against the operator's caps.
 *
 * The gateway parses a submitted body to answer 4xx, and queues the canonical
 * form (stress_spec_to_json); the worker parses that again with the same
 * function and its own caps, which fill in the defaults. Pure: no I/O.
 * Whether the target may be reached at all is target_policy's question
 * (common/target_policy.h), not this module's.
 *
 * Body members:
 *   base_url      string, absolute http(s) URL without credentials, query or
 *                 fragment, <= STRESS_URL_MAX bytes
 *   requests      array of 1..STRESS_REQUESTS_MAX objects:
 *     method      GET HEAD POST PUT PATCH DELETE OPTIONS
 *     path        "/..." <= STRESS_PATH_MAX bytes, no control characters
 *                 (a query may follow); appended to base_url
 *     body        optional string <= STRESS_BODY_MAX bytes (not with HEAD)
 *     weight      optional integer 1..STRESS_WEIGHT_MAX, default 1
 *     headers     optional object of <= STRESS_HEADERS_MAX string members
 *   rate          integer, requests per second, 1..CODEINSIGHT_STRESS_MAX_RPS
 *   duration_s    integer, 1..CODEINSIGHT_STRESS_MAX_DURATION_S
 *   concurrency   optional integer, 1..CODEINSIGHT_STRESS_MAX_CONCURRENCY,
 *                 default min(STRESS_CONCURRENCY_DEFAULT, that cap)
 *   max_requests  optional integer, 1..CODEINSIGHT_STRESS_MAX_REQUESTS,
 *                 default min(rate * duration_s, that cap)
 * Other members are ignored.
 */
#ifndef CI_STRESS_SPEC_H
#define CI_STRESS_SPEC_H

#include <stddef.h>

#include "common/json.h"

struct config;
struct err;

/* Limits, bytes unless said otherwise. */
#define STRESS_URL_MAX              2048
#define STRESS_PATH_MAX             2048
#define STRESS_BODY_MAX       (64 * 1024)
#define STRESS_REQUESTS_MAX           20    /* entries of requests */
#define STRESS_WEIGHT_MAX            100
#define STRESS_HEADERS_MAX             8    /* headers of one request */
#define STRESS_HEADER_NAME_MAX        40
#define STRESS_HEADER_VALUE_MAX     1024
#define STRESS_CONCURRENCY_DEFAULT    10
#define STRESS_METHOD_MAX              8    /* "OPTIONS" and its NUL */

struct stress_header {
    char *name;                 /* owns; token characters, not a refused name */
    char *value;                /* owns; no control characters but tab, may be "" */
};

struct stress_request {
    char method[STRESS_METHOD_MAX];
    char *path;                 /* owns; starts with '/' */
    char *body;                 /* owns; NULL when absent */
    long weight;                /* 1..STRESS_WEIGHT_MAX */
    int nheaders;
    struct stress_header headers[STRESS_HEADERS_MAX];
};

struct stress_spec {
    char *base_url;             /* owns; as given */
    int nrequests;              /* 1..STRESS_REQUESTS_MAX */
    struct stress_request requests[STRESS_REQUESTS_MAX];
    long rate;                  /* requests per second */
    long duration_s;
    long concurrency;           /* requests in flight at most */
    long max_requests;          /* requests sent at most */
    int concurrency_given;      /* 1: from the body; 0: the default of the caps parsed with */
    int max_requests_given;     /* likewise */
};

/* Checks doc (a parsed body; the caller has already refused "\u0000"
 * escapes and raw control characters, as review_parse does) against the
 * rules above and cfg's caps. Returns ERR_OK with *out (owns;
 * stress_spec_free), or an error naming the field exactly ("requests[2].method",
 * "requests[0].headers.X-Trace") with ERR_MISSING_FIELD,
 * ERR_INVALID_FIELD_TYPE, ERR_INVALID_FIELD_VALUE, ERR_FIELD_TOO_LONG or
 * ERR_INVALID_ENCODING; ERR_INVALID_JSON when doc is not an object;
 * ERR_INTERNAL when memory ran out. */
int stress_spec_parse(const cJSON *doc, const struct config *cfg, struct stress_spec **out,
                      struct err *e);

/* Canonical form, which stress_spec_parse reads back with the same caps to
 * an equal spec: {"base_url", "requests": [{"method", "path", "body"?,
 * "weight", "headers"?}], "rate", "duration_s", "concurrency"?,
 * "max_requests"?}. concurrency and max_requests are there only when the
 * body gave them: a default is the reader's, from its own caps, so a heavy
 * worker whose caps are lower than the gateway's runs within them instead
 * of refusing a value the client never sent. Returns the object (owns;
 * cJSON_Delete) or NULL when memory ran out. */
cJSON *stress_spec_to_json(const struct stress_spec *s);

/* Writes the URL of requests[i] (base_url, less a trailing '/', then the
 * path) into buf (cap bytes). Returns 0, or -1 when it does not fit. A
 * buffer of STRESS_URL_MAX + STRESS_PATH_MAX + 1 bytes always fits. */
int stress_spec_url(const struct stress_spec *s, int i, char *buf, size_t cap);

/* Accepts NULL. */
void stress_spec_free(struct stress_spec *s);

#endif
