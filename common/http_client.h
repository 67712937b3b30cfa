/* http_client.h - outbound HTTP (the one place libcurl is included).
 *
 * A blocking GET, for small documents such as a JWKS: every call is
 * independent (its own easy handle), so any thread may call it.
 *
 *     char *body; size_t len; long status;
 *     if (http_get(url, 3000, 256 * 1024, &body, &len, &status, NULL, &e) == ERR_OK) {
 *         ... status, body ...
 *         free(body);
 *     }
 *
 * Asynchronous requests on the event loop (the model client, the stress
 * engine), and URL parsing with libcurl's parser (http_url_parse).
 */
#ifndef CI_HTTP_CLIENT_H
#define CI_HTTP_CLIENT_H

#include <stddef.h>

struct err;
struct sockaddr;

/* Sent with every request. */
#define HTTP_USER_AGENT "codeinsight/1"

/* Bytes of http_header.value, including the NUL. */
#define HTTP_HEADER_MAX 256

/* One response header http_get() looks for (optional). */
struct http_header {
    const char *name;               /* in: without the colon; matched case-insensitively */
    char value[HTTP_HEADER_MAX];    /* out: the value, surrounding blanks trimmed; several
                                     * lines of the header are joined with ", " (RFC 9110
                                     * list syntax); "" when absent or too long */
    int found;                      /* out: 1 when the final response has the header */
    int too_long;                   /* out: 1 when the value (all lines together) needs
                                     * more than HTTP_HEADER_MAX - 1 bytes; value is then "" */
};

/* Blocking GET of url (http:// or https:// only; redirects are not followed,
 * a 3xx is returned as is; TLS peers are verified). timeout_ms (> 0) bounds the
 * whole transfer, connection included. A body over max_bytes is refused: the
 * transfer is aborted as soon as the Content-Length or the received bytes
 * exceed it. hdr, when not NULL, names a header to return (see struct
 * http_header; only the final response's headers count, not a 1xx's); its
 * out members are reset first, and are meaningful when ERR_OK is returned.
 *
 * Returns ERR_OK when a complete response arrived, whatever its status; then
 * *body is the body (owns: free(); NUL-terminated, may contain NULs), *len its
 * length in bytes excluding the NUL, *status the HTTP status. Otherwise
 * *body is NULL, *len 0, *status 0 and the result is ERR_TIMEOUT,
 * ERR_PROTOCOL (body over max_bytes, malformed response, unsupported scheme),
 * ERR_IO (DNS, connection, TLS, ...) or ERR_INTERNAL (libcurl could not be
 * initialised, out of memory). The error message never contains the URL. */
int http_get(const char *url, long timeout_ms, size_t max_bytes, char **body, size_t *len,
             long *status, struct http_header *hdr, struct err *e);

/* ---- URLs ---- */

/* Bytes of a host name kept by http_url_parse, including the NUL. */
#define HTTP_URL_HOST_MAX 256

/* An absolute URL as libcurl's URL parser reads it (the parser CURLOPT_URL
 * uses, so what is checked is what would be connected to). */
struct http_url {
    char scheme[16];                /* lower case: "http", "https", "ftp", ... */
    char host[HTTP_URL_HOST_MAX];   /* as libcurl normalises it (IPv4 numbers in
                                     * dotted quads); IPv6 literals without brackets */
    long port;                      /* explicit, else the scheme's default; -1 when unknown */
    int has_userinfo;               /* a user name, password or login options */
    int has_query;
    int has_fragment;
    int has_zone;                   /* an IPv6 zone id ("%eth0") */
};

/* Parses url, which must be absolute (any scheme). Returns ERR_OK with *out
 * filled, or ERR_INVALID_FIELD_VALUE (malformed, relative, host too long) or
 * ERR_INTERNAL (out of memory). The message never contains the URL. */
int http_url_parse(const char *url, struct http_url *out, struct err *e);

/* ---- Asynchronous requests on the event loop (curl multi) ----
 *
 * Many transfers in flight at once in one thread: sockets and timeouts are
 * watched by the loop (common/loop.h). Connections are kept alive and
 * reused, by every request of one http_async; HTTP/2 multiplexing is used
 * when the server offers it. Only http and https; redirects are never followed.
 *
 *     struct http_async *h = http_async_new(loop, &e);
 *     struct http_req rq = {.url = u, .headers = hs, .body = b, .body_len = n,
 *                           .timeout_ms = 30000, .connect_timeout_ms = 5000,
 *                           .max_response = 1 << 20};
 *     http_async_post(h, &rq, on_done, ctx, &e);     // on_done runs later, once
 *
 *     struct http_req g = {.url = u, .method = "GET", .timeout_ms = 10000,
 *                          .connect_timeout_ms = 10000, .discard_body = 1,
 *                          .addr_check = check, .addr_check_arg = policy};
 *     http_async_request(h, &g, on_done, ctx, &e);
 */

struct loop;
struct http_async;

/* Connect-time check of an address a request is about to connect to (after
 * name resolution, before the socket exists). Returns ERR_OK to connect, any
 * other code to refuse with e->msg saying why. Runs on the loop thread,
 * inside libcurl: it must not call back into the http_async. */
typedef int http_addr_check_cb(void *arg, const struct sockaddr *addr, size_t len,
                               struct err *e);

/* Bytes of http_resp.refused, including the NUL. */
#define HTTP_REFUSED_MAX 256

/* Bytes of a raw Location header kept, including the NUL. */
#define HTTP_LOCATION_MAX 2048

/* Bytes of http_resp.etag, including the NUL. A longer ETag is not kept:
 * cut, it would name another representation, or none. */
#define HTTP_ETAG_MAX 128

struct http_req {
    const char *url;
    const char *const *headers;     /* "Name: value" strings, NULL-terminated; copied.
                                     * "Name;" sends an empty value (libcurl) */
    const char *body;               /* copied; http_async_request: NULL = no body */
    size_t body_len;
    long timeout_ms;                /* whole transfer */
    long connect_timeout_ms;
    size_t max_response;            /* bytes of body kept; more fails the transfer */
    /* http_async_request only: */
    const char *method;             /* GET HEAD POST PUT PATCH DELETE OPTIONS; NULL = GET */
    int discard_body;               /* 1: the body is read and dropped; resp.len counts
                                     * its bytes and max_response is ignored */
    http_addr_check_cb *addr_check; /* NULL: any address. Else every connection this
                                     * request opens is checked, and no proxy is used
                                     * (the proxy's address is not the target's). A
                                     * connection another request of the same http_async
                                     * left open is reused unchecked: requests that need
                                     * the check get an http_async of their own */
    void *addr_check_arg;           /* borrowed until the callback has run */
};

struct http_resp {
    int transport_ok;               /* 1 when a complete response arrived */
    int timed_out;
    int sent;                       /* 1 when the request went out on a connection: a
                                     * failure with 0 is a connect failure (refused,
                                     * unreachable, connect timed out) */
    long status;                    /* HTTP status when transport_ok */
    const char *body;               /* borrowed for the callback; NUL-terminated */
    size_t len;
    /* Header fields are the final response's only, never a 1xx's (100
     * Continue, 103 Early Hints): */
    char retry_after[32];           /* Retry-After, "" when absent; cut at 31 bytes */
    char reset[64];                 /* anthropic-ratelimit-requests-reset, "" when absent;
                                     * cut at 63 bytes */
    char etag[HTTP_ETAG_MAX];       /* the final response's ETag, blanks trimmed; "" when
                                     * absent or over HTTP_ETAG_MAX - 1 bytes */
    char content_type[128];         /* Content-Type, "" when absent; cut at 127 bytes */
    char error[128];                /* transport error text, "" when none */
    double seconds;                 /* total time */
    const char *location;           /* Location: for a 3xx, resolved against the request
                                     * URL; otherwise (or when it cannot be resolved) the
                                     * raw value, cut at HTTP_LOCATION_MAX - 1 bytes.
                                     * NULL when absent. Borrowed for the callback */
    int addr_refused;               /* 1: no complete response, and addr_check refused
                                     * at least one address */
    char refused[HTTP_REFUSED_MAX]; /* addr_check's message for its last refusal, or "" */
};

typedef void http_async_cb(void *arg, const struct http_resp *r);

/* Returns a client on loop (owns; http_async_free) or NULL with e set. */
struct http_async *http_async_new(struct loop *loop, struct err *e);

/* Aborts transfers still running (their callbacks do not run) and frees.
 * Accepts NULL. */
void http_async_free(struct http_async *h);

/* Starts a POST of body[0..body_len). Returns ERR_OK (cb runs exactly once,
 * from the loop) or an error (cb never runs). The http_async_request-only
 * members of rq are ignored. */
int http_async_post(struct http_async *h, const struct http_req *rq, http_async_cb *cb,
                    void *arg, struct err *e);

/* Starts a request with rq->method, rq->body when not NULL (else none; POST,
 * PUT and PATCH then send an empty body) and, when set, rq->addr_check on
 * every connection it opens. A HEAD request sends no body. Returns ERR_OK
 * (cb runs exactly once, from the loop) or ERR_INTERNAL (unsupported method,
 * out of memory; cb never runs). */
int http_async_request(struct http_async *h, const struct http_req *rq, http_async_cb *cb,
                       void *arg, struct err *e);

/* Aborts the transfers in flight started with callback argument arg (their
 * callbacks do not run) and frees them. Returns how many. Safe from inside
 * a callback of h (not from addr_check, which runs inside libcurl). */
int http_async_cancel(struct http_async *h, const void *arg);


#endif
