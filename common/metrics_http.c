/* metrics_http.c - GET /metrics on libmicrohttpd's internal thread. */
#include "common/metrics_http.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_HTTP_CONNECTIONS 16
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define LIVEZ_CONTENT_TYPE "application/json"

struct metrics_http {
    struct MHD_Daemon *daemon;
    unsigned port;
    long stall_ms;
    _Atomic int64_t last_beat_ms;   /* monotonic; -1 before the first beat */
};

void metrics_http_beat(struct metrics_http *mh)
{
    if (mh != NULL)
        atomic_store_explicit(&mh->last_beat_ms, clock_mono_ms(), memory_order_relaxed);
}

/* GET /livez: the status and its JSON body (owns; NULL when out of memory). */
static char *livez(const struct metrics_http *mh, unsigned *status)
{
    int64_t beat = atomic_load_explicit(&mh->last_beat_ms, memory_order_relaxed);
    int64_t age = beat < 0 ? -1 : clock_mono_ms() - beat;
    char buf[96];

    *status = MHD_HTTP_OK;
    if (age < 0)
        snprintf(buf, sizeof buf, "{\"status\":\"starting\"}\n");
    else if (age <= mh->stall_ms)
        snprintf(buf, sizeof buf, "{\"status\":\"ok\",\"beat_age_ms\":%lld}\n", (long long)age);
    else {
        *status = MHD_HTTP_SERVICE_UNAVAILABLE;
        snprintf(buf, sizeof buf, "{\"status\":\"stalled\",\"beat_age_ms\":%lld}\n",
                 (long long)age);
    }
    return strdup(buf);
}

/* Takes text. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                              char *text, const char *allow)
{
    struct MHD_Response *r;
    enum MHD_Result rc;

    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    static int first;
    const struct metrics_http *mh = cls;
    int live = strcmp(url, "/livez") == 0;
    unsigned status;
    char *text;

    (void)version;
    (void)upload_data;
    /* The first call only announces the request; any body is discarded. */
    if (*con_cls == NULL) {
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0 && !live) {
        text = strdup("not found: only /metrics and /livez are served here\n");
        return text ? answer(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", text, NULL)
                    : MHD_NO;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        text = strdup("method not allowed\n");
        return text ? answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                             text, "GET, HEAD")
                    : MHD_NO;
    }
    if (live) {
        text = livez(mh, &status);
        return text ? answer(conn, status, LIVEZ_CONTENT_TYPE, text, NULL) : MHD_NO;
    }
    text = metrics_render();
    if (text == NULL)
        text = strdup("out of memory\n");
    return text ? answer(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, text, NULL) : MHD_NO;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_event(LOG_WARN, "metrics_http_warning", "detail", msg);
}

struct metrics_http *metrics_http_start(const char *bind, long port, long stall_ms,
                                        struct err *e)
{
    struct metrics_http *mh;
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;

    if (port < 0 || port > 65535) {
        err_set(e, ERR_CONFIG, "metrics port out of range: %ld", port);
        return NULL;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1) {
        err_set(e, ERR_CONFIG, "CODEINSIGHT_METRICS_BIND is not an IPv4 address: %s", bind);
        return NULL;
    }
    mh = calloc(1, sizeof *mh);
    if (mh == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    mh->stall_ms = stall_ms > 0 ? stall_ms : 1;
    atomic_init(&mh->last_beat_ms, -1);
    mh->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                  (uint16_t)port, NULL, NULL, on_access, mh,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                  MHD_OPTION_CONNECTION_LIMIT,
                                  (unsigned int)METRICS_HTTP_CONNECTIONS,
                                  MHD_OPTION_CONNECTION_TIMEOUT,
                                  (unsigned int)METRICS_HTTP_TIMEOUT_S,
                                  MHD_OPTION_END);
    if (mh->daemon == NULL) {
        err_set(e, ERR_IO, "cannot listen on %s:%ld for metrics (in use, or not permitted)",
                bind, port);
        free(mh);
        return NULL;
    }
    info = MHD_get_daemon_info(mh->daemon, MHD_DAEMON_INFO_BIND_PORT);
    mh->port = info ? info->port : (unsigned)port;
    return mh;
}

unsigned metrics_http_port(const struct metrics_http *mh)
{
    return mh->port;
}

void metrics_http_stop(struct metrics_http *mh)
{
    if (mh == NULL)
        return;
    MHD_stop_daemon(mh->daemon);
    free(mh);
}
