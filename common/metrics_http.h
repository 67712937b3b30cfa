/* metrics_http.h - a small HTTP listener serving GET /metrics (the
 * registry of common/metrics.h) from its own thread, for processes that
 * have no HTTP server of their own (workers).
 *
 *     struct metrics_http *mh = metrics_http_start("127.0.0.1", 9464, &e);
 *     ...
 *     metrics_http_stop(mh);
 */
#ifndef CI_METRICS_HTTP_H
#define CI_METRICS_HTTP_H

struct err;
struct metrics_http;

/* Listens on bind (an IPv4 address) and port (0: any free port) with one
 * internal polling thread. Returns the listener (owns; metrics_http_stop) or
 * NULL with e set (ERR_CONFIG for a bad address, ERR_IO when it cannot
 * listen). */
struct metrics_http *metrics_http_start(const char *bind, long port, struct err *e);

/* The port actually bound. */
unsigned metrics_http_port(const struct metrics_http *mh);

/* Stops the thread, closes the socket and frees; accepts NULL. */
void metrics_http_stop(struct metrics_http *mh);

#endif
