/* http_client.h - outbound HTTP (the one place libcurl is included).
 *
 * For now only a blocking GET, for small documents such as a JWKS. Every
 * call is independent (its own easy handle), so any thread may call it.
 *
 *     char *body; size_t len; long status;
 *     if (http_get(url, 3000, 256 * 1024, &body, &len, &status, &e) == ERR_OK) {
 *         ... status, body ...
 *         free(body);
 *     }
 */
#ifndef CI_HTTP_CLIENT_H
#define CI_HTTP_CLIENT_H

#include <stddef.h>

struct err;

/* Sent with every request. */
#define HTTP_USER_AGENT "codeinsight/1"

/* Blocking GET of url (http:// or https:// only; redirects are not followed,
 * a 3xx is returned as is; TLS peers are verified). timeout_ms (> 0) bounds the
 * whole transfer, connection included. A body over max_bytes is refused: the
 * transfer is aborted as soon as the Content-Length or the received bytes
 * exceed it.
 *
 * Returns ERR_OK when a complete response arrived, whatever its status; then
 * *body is the body (owns: free(); NUL-terminated, may contain NULs), *len its
 * length in bytes excluding the NUL, *status the HTTP status. Otherwise
 * *body is NULL, *len 0, *status 0 and the result is ERR_TIMEOUT,
 * ERR_PROTOCOL (body over max_bytes, malformed response, unsupported scheme),
 * ERR_IO (DNS, connection, TLS, ...) or ERR_INTERNAL (libcurl could not be
 * initialised, out of memory). The error message never contains the URL. */
int http_get(const char *url, long timeout_ms, size_t max_bytes, char **body, size_t *len,
             long *status, struct err *e);

/* ---- Asynchronous requests on the event loop (curl multi) ----
 *
 * Many transfers in flight at once in one thread: sockets and timeouts are
 * watched by the loop (common/loop.h). Connections are kept alive and
 * reused; HTTP/2 multiplexing is used when the server offers it.
 *
 *     struct http_async *h = http_async_new(loop, &e);
 *     struct http_req rq = {.url = u, .headers = hs, .body = b, .body_len = n,
 *                           .timeout_ms = 30000, .connect_timeout_ms = 5000,
 *                           .max_response = 1 << 20};
 *     http_async_post(h, &rq, on_done, ctx, &e);     // on_done runs later, once
 */

struct loop;
struct http_async;

struct http_req {
    const char *url;
    const char *const *headers;     /* "Name: value" strings, NULL-terminated; copied */
    const char *body;               /* copied */
    size_t body_len;
    long timeout_ms;                /* whole transfer */
    long connect_timeout_ms;
    size_t max_response;            /* bytes of body kept; more fails the transfer */
};

struct http_resp {
    int transport_ok;               /* 1 when a complete response arrived */
    int timed_out;
    long status;                    /* HTTP status when transport_ok */
    const char *body;               /* borrowed for the callback; NUL-terminated */
    size_t len;
    char retry_after[32];           /* Retry-After header, "" when absent */
    char reset[64];                 /* anthropic-ratelimit-requests-reset, "" when absent */
    char error[128];                /* transport error text, "" when none */
    double seconds;                 /* total time */
};

typedef void http_async_cb(void *arg, const struct http_resp *r);

/* Returns a client on loop (owns; http_async_free) or NULL with e set. */
struct http_async *http_async_new(struct loop *loop, struct err *e);

/* Aborts transfers still running (their callbacks do not run) and frees.
 * Accepts NULL. */
void http_async_free(struct http_async *h);

/* Starts a POST. Returns ERR_OK (cb runs exactly once, from the loop) or an
 * error (cb never runs). */
int http_async_post(struct http_async *h, const struct http_req *rq, http_async_cb *cb,
                    void *arg, struct err *e);

/* Transfers in flight. */
int http_async_inflight(const struct http_async *h);

#endif
