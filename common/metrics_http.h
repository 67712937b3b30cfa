/* metrics_http.h - a small HTTP listener serving GET /metrics (the
 * registry of common/metrics.h) and GET /livez from its own thread, for
 * processes that have no HTTP server of their own (workers).
 *
 *     struct metrics_http *mh = metrics_http_start("127.0.0.1", 9464, 30000, &e);
 *     ... the main loop calls metrics_http_beat(mh) every time round ...
 *     metrics_http_stop(mh);
 *
 * GET /livez is the process's liveness, for an orchestrator's probe: 200
 * {"status":"ok","beat_age_ms":N} while the main loop beat within stall_ms,
 * 503 {"status":"stalled",...} once it has not (the loop is wedged: a
 * restart is the cure), and 200 {"status":"starting"} before its first
 * beat. It says nothing of Redis or PostgreSQL: an outage is not cured by
 * restarting a worker.
 */
#ifndef CI_METRICS_HTTP_H
#define CI_METRICS_HTTP_H

struct err;
struct metrics_http;

/* Listens on bind (an IPv4 address) and port (0: any free port) with one
 * internal polling thread; /livez reports a stall once the last beat is
 * older than stall_ms (> 0). Returns the listener (owns; metrics_http_stop)
 * or NULL with e set (ERR_CONFIG for a bad address, ERR_IO when it cannot
 * listen). */
struct metrics_http *metrics_http_start(const char *bind, long port, long stall_ms,
                                        struct err *e);

/* Records that the main loop ran (any thread); accepts NULL (no listener). */
void metrics_http_beat(struct metrics_http *mh);

/* The port actually bound. */
unsigned metrics_http_port(const struct metrics_http *mh);

/* Stops the thread, closes the socket and frees; accepts NULL. */
void metrics_http_stop(struct metrics_http *mh);

#endif
