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

#endif
