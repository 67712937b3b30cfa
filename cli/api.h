/* api.h - the CLI's HTTP client for the Code Insight API.
 *
 * Requests run concurrently on one event loop (common/loop.h) through
 * libcurl multi (common/http_client.h); the caller drives the loop.
 * Every request carries the API key as a Bearer token (never logged or
 * printed) and a timeout; responses are capped at API_RESPONSE_MAX.
 *
 *     struct api api;
 *     if (api_init(&api, url, key, &e) != ERR_OK) ...
 *     api_send(&api, "GET", "/job/ID", NULL, NULL, 0, on_done, ctx, msg, sizeof msg);
 *                                                   // loop_run calls on_done
 *     loop_run(api.loop);
 *     api_cleanup(&api);
 */
#ifndef CI_CLI_API_H
#define CI_CLI_API_H

#include <stddef.h>

#include "common/json.h"

struct err;
struct loop;
struct http_async;

/* Largest response body kept, bytes (a SARIF log of a large job). */
#define API_RESPONSE_MAX (16 * 1024 * 1024)
/* Whole-request timeout, ms: the longest any request may take (a caller
 * with a deadline gives less, api_send). */
#define API_TIMEOUT_MS 60000L
/* Connection timeout, ms. */
#define API_CONNECT_TIMEOUT_MS 10000L
/* Longest Retry-After honoured, seconds (a longer one, however many digits
 * it has, is cut to this). */
#define API_RETRY_AFTER_MAX 60L
/* Longest URL built (base + path), bytes including the NUL. */
#define API_URL_MAX 4096
/* Longest problem code or detail kept in a description, bytes including
 * the NUL (a longer one is cut). */
#define API_DESCRIBE_MAX 512

struct api {
    struct loop *loop;              /* owns */
    struct http_async *http;        /* owns */
    char base[API_URL_MAX];         /* service URL without a trailing '/' */
    char auth[640];                 /* "Authorization: Bearer <key>": secret, wiped */
    int has_key;
};

struct api_resp {
    int transport_ok;               /* 1: a complete response arrived */
    long status;                    /* HTTP status when transport_ok */
    const char *body;               /* borrowed for the callback; NUL-terminated */
    size_t len;
    cJSON *json;                    /* the body parsed, or NULL; borrowed for the callback */
    long retry_after_s;             /* Retry-After in seconds (capped), -1 when absent */
    const char *etag;               /* the ETag when it is one entity-tag ("...", W/"...",
                                     * RFC 9110 8.8.3) that was kept whole
                                     * (HTTP_ETAG_MAX), else NULL; borrowed for the
                                     * callback */
    const char *content_type;       /* the Content-Type, "" when absent; borrowed for the
                                     * callback */
    const char *location;           /* a 3xx's Location (resolved), else NULL; borrowed for
                                     * the callback. Never followed: the key would go there */
    int timed_out;                  /* 1: the request's timeout ended it (not transport_ok) */
    int connect_failed;             /* 1: no connection was made (not transport_ok): the
                                     * service is unreachable, whatever timed_out says */
    const char *url;                /* the service (api.base); borrowed for the callback */
    char error[160];                /* transport error, "" when transport_ok */
};

typedef void api_cb(void *arg, const struct api_resp *r);

/* Sets up a client for url (http:// or https://) with key (may be NULL or
 * "": no Authorization header). Returns ERR_OK, or ERR_INVALID_FIELD_VALUE
 * (bad URL) / ERR_INTERNAL with e set. On failure nothing needs cleaning. */
int api_init(struct api *a, const char *url, const char *key, struct err *e);

/* Aborts what is in flight (no callbacks), frees, wipes the key. */
void api_cleanup(struct api *a);

/* What a request asks beyond its method, path and body (api_send). */
struct api_ask {
    const char *if_none_match;  /* an entity-tag kept (api_resp.etag), sent as
                                 * If-None-Match: a 304 without a body then says
                                 * the answer is unchanged; NULL: none */
    int no_cache;               /* 1: Cache-Control: no-cache (POST /review: a
                                 * fresh review, not a result-cache answer) */
};

/* Starts method path (starting with '/', query allowed) with a JSON body
 * (may be NULL) and what ask asks (NULL: nothing more). timeout_ms bounds
 * it in all (<= 0 or more than API_TIMEOUT_MS: API_TIMEOUT_MS; the
 * connection timeout is cut to it too). Returns 0 (cb runs once, from the
 * loop) or -1 with msg (ask->if_none_match not an entity-tag among them). */
int api_send(struct api *a, const char *method, const char *path, const char *body,
             const struct api_ask *ask, long timeout_ms, api_cb *cb, void *arg, char *msg,
             size_t cap);

/* Runs one request to completion on the loop (nothing else may be in
 * flight). Returns 0 with *status, *json (owns: cJSON_Delete; NULL when
 * the body is not JSON) and msg describing the answer (api_describe), for
 * a caller that did not want it; or -1 with msg (no complete answer:
 * connection failure, timeout). */
int api_call(struct api *a, const char *method, const char *path, const char *body,
             long *status, cJSON **json, char *msg, size_t cap);

/* A one-line description of a failed response for the user: the problem's
 * code and detail when the body is problem+json ("invalid_api_key: unknown
 * API key (HTTP 401)"); for a redirect, where it points ("redirected to
 * LOCATION (HTTP 301), not followed: is URL the service's URL?"); for a
 * body that is not JSON (a proxy's error page), the status, the media
 * type and the URL ("unexpected answer (HTTP 502, text/html, not JSON)
 * from URL"); else the status; without a complete answer, the transport
 * error ("cannot reach URL: ..." when no connection was made, else "no
 * complete answer from URL: ..."). The server's text is flattened and made
 * safe for a terminal (termtext.h); out is cut at a character boundary. */
void api_describe(const struct api_resp *r, char *out, size_t cap);

/* Same, from a status and a parsed body (json may be NULL). */
void api_describe_json(long status, const cJSON *json, char *out, size_t cap);

#endif
