/* server.c - libmicrohttpd glue: accepts requests, buffers bodies up to the
 * limit, looks up the route and dispatches. Nothing else happens here.
 *
 * Three kinds of threads: request threads (one per core), which parse HTTP
 * and run the handlers that do not wait for long; waiting threads
 * (offload.h) for the routes marked ROUTE_WAITS; and the admission threads
 * (admit.h), to which POST /review hands its validated submissions. A
 * handed-over request's connection is suspended while the other thread
 * works; the response is held in the request, the connection resumed, and
 * the request thread queues it when MHD calls on_access again. */
#include "gateway/gateway.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/log.h"
#include "common/utf8.h"
#include "gateway/admit.h"
#include "gateway/auth.h"
#include "gateway/export.h"
#include "gateway/forwarded.h"
#include "gateway/gate.h"
#include "gateway/observe.h"
#include "gateway/offload.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/routes.h"
#include "gateway/subs.h"
#include "gateway/view_cache.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

/* Request threads per core when CODEINSIGHT_HTTP_THREADS is 0: they never
 * wait for long, so more would only take turns on the cores. */
#define SERVER_THREADS_PER_CORE 1
/* Waiting threads per core when CODEINSIGHT_HTTP_WAIT_THREADS is 0: they
 * mostly wait on Redis, PostgreSQL or argon2, so several per core. */
#define SERVER_WAIT_THREADS_PER_CORE 4

/* Connections for ordinary requests; event streams get their own cap
 * (CODEINSIGHT_SSE_MAX_SUBSCRIBERS) on top. */
#define SERVER_CONNECTION_LIMIT 4096
/* Descriptors besides connections: listener, Redis, PostgreSQL, logs. */
#define SERVER_FD_SPARE 256
#define BODY_INITIAL_CAP 16384
/* Memory libmicrohttpd gives each connection for its request line, headers
 * and buffers (its default is 32 KB): headers of up to about 14 KB fit;
 * bodies stream through in pieces. MHD zeroes all of it between requests,
 * so it is no bigger than it needs to be. */
#define SERVER_CONNECTION_MEMORY (16 * 1024)
#define SERVER_DRAIN_MS 5000
/* Then ms for the pools to run what they still hold; past it, the queries
 * still waiting on PostgreSQL (a lock, a hung server) are given up. */
#define SERVER_POOL_GRACE_MS 2000
/* ms, once given up, for their threads to answer (503) and return; a thread
 * still in PostgreSQL then is left running and the process exits anyway. */
#define SERVER_CANCEL_GRACE_MS 1000
/* Then, once the pools have run what they held, ms for those answers to go
 * out before the server stops. */
#define SERVER_RESUMED_DRAIN_MS 2000
/* Bytes of an unexpected method echoed in a 405's detail, excluding the NUL. */
#define SERVER_METHOD_SHOWN_MAX 32

const char *request_header(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_query(const struct request *req, const char *name)
{
    const char *v = NULL;
    size_t n = 0;

    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
                                      &n) != MHD_YES)
        return NULL;
    return v != NULL ? v : "";     /* "?format" is "?format=", not no format */
}

/* The X-Forwarded-For lines of a request, the last FORWARDED_LINES_MAX. */
struct xff_lines {
    const char *v[FORWARDED_LINES_MAX];
    int n;                          /* lines seen; v holds the last ones, in a ring */
};

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct xff_lines *x = cls;

    (void)kind;
    if (key != NULL && value != NULL && strcasecmp(key, "X-Forwarded-For") == 0)
        x->v[x->n++ % FORWARDED_LINES_MAX] = value;
    return MHD_YES;
}

/* Says, at most once per FORWARDED_WARN_EVERY_MS, that X-Forwarded-For
 * came from a peer that is not a trusted proxy: behind a proxy,
 * CODEINSIGHT_TRUSTED_PROXIES is unset or misses it, and every client
 * shares the proxy's per-address limits. (Not once per process: the first
 * such peer may be a client connecting directly, not the proxy.) */
#define FORWARDED_WARN_EVERY_MS (3600 * 1000)

static void warn_untrusted_forwarder(const struct cidr *peer, int configured)
{
    static int64_t last_ms;         /* 0: never */
    int64_t now = clock_mono_ms(), seen = __atomic_load_n(&last_ms, __ATOMIC_RELAXED);
    char addr[CIDR_TEXT_MAX];
    struct log_line l;

    if (seen != 0 && now - seen < FORWARDED_WARN_EVERY_MS)
        return;
    if (!__atomic_compare_exchange_n(&last_ms, &seen, now, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
        return;
    cidr_format(peer, addr, sizeof addr);
    log_begin(&l, LOG_WARN, "forwarded_for_ignored");
    log_str(&l, "peer", addr);
    log_str(&l, "reason", configured ? "the peer is not in CODEINSIGHT_TRUSTED_PROXIES"
                                     : "CODEINSIGHT_TRUSTED_PROXIES is empty");
    log_end(&l);
}

/* The client's address, as request_client_addr says; 0 when unknown. */
static int client_cidr(const struct request *req, struct cidr *client)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct xff_lines x = {{NULL}, 0};
    const char *ordered[FORWARDED_LINES_MAX];
    struct cidr peer;
    int n;

    if (ci == NULL || !cidr_from_sockaddr(ci->client_addr, &peer))
        return 0;
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_xff, &x);
    n = x.n < FORWARDED_LINES_MAX ? x.n : FORWARDED_LINES_MAX;
    for (int i = 0; i < n; i++)
        ordered[i] = x.v[(x.n - n + i) % FORWARDED_LINES_MAX];
    if (n > 0 && !cidr_list_contains(&req->gw->trusted, &peer))
        warn_untrusted_forwarder(&peer, req->gw->trusted.n > 0);
    forwarded_client(&req->gw->trusted, &peer, ordered, n, client);
    return 1;
}

/* The client as text; an IPv6 client truncated to bits6 bits and written
 * with its prefix ("2001:db8:1:2::/64") when bits6 < 128. */
static void client_text(const struct request *req, int bits6, char *out, size_t cap)
{
    struct cidr client;
    size_t n;

    if (!client_cidr(req, &client)) {
        snprintf(out, cap, "unknown");
        return;
    }
    if (client.family != AF_INET6 || bits6 >= 128) {
        cidr_format(&client, out, cap);
        return;
    }
    cidr_truncate(&client, bits6);
    cidr_format(&client, out, cap);
    n = strlen(out);
    snprintf(out + n, cap - n, "/%d", bits6);
}

void request_client_addr(const struct request *req, char *out, size_t cap)
{
    client_text(req, 128, out, cap);
}

void request_client_bucket(const struct request *req, char *out, size_t cap)
{
    client_text(req, REQUEST_CLIENT_IPV6_BUCKET, out, cap);
}

/* Honours a sane incoming X-Request-Id, otherwise issues one. */
static void request_id_init(struct request *req)
{
    const char *in = request_header(req, "X-Request-Id");
    size_t n = in ? strlen(in) : 0;

    if (n > 0 && n <= REQUEST_ID_MAX) {
        size_t i;
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)in[i];
            if (!isalnum(c) && c != '-' && c != '_' && c != '.')
                break;
        }
        if (i == n) {
            memcpy(req->request_id, in, n + 1);
            return;
        }
    }
    crypto_uuid7(clock_now_us(), req->request_id);
}

static int content_type_is_json(const char *ct)
{
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;

    if (ct == NULL || strncasecmp(ct, json, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Checks made before any body byte is read. Returns 0 or responds. */
static int request_precheck_or_respond(struct request *req)
{
    const char *cl = request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    struct err e;

    if (cl != NULL) {
        char *end;
        unsigned long long n;
        errno = 0;
        n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && *end == '\0' &&
            n > (unsigned long long)req->gw->cfg->body_max) {
            err_set(&e, ERR_BODY_TOO_LARGE, "request body is %llu bytes; the limit is %ld", n,
                    req->gw->cfg->body_max);
            respond_error(req, &e);
            return -1;
        }
    }
    if (!content_type_is_json(request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        err_set(&e, ERR_UNSUPPORTED_MEDIA_TYPE, "send the body as application/json");
        respond_error(req, &e);
        return -1;
    }
    return 0;
}

static struct request *request_new(struct gateway *gw, struct MHD_Connection *conn,
                                   const char *method, const char *url)
{
    struct request *req = calloc(1, sizeof *req);
    char allow[64], shown[SERVER_METHOD_SHOWN_MAX + 1];
    struct err e;

    if (req == NULL)
        return NULL;
    req->gw = gw;
    req->conn = conn;
    req->method = method;
    req->start_us = clock_mono_us();
    __atomic_add_fetch(&gw->active, 1, __ATOMIC_ACQ_REL);
    snprintf(req->path, sizeof req->path, "%s", url);
    /* The path is echoed in logs and error details, which must stay UTF-8. */
    utf8_sanitize(req->path);
    request_id_init(req);

    switch (routes_find(method, url, &req->route, req->param, sizeof req->param, allow,
                        sizeof allow)) {
    case ROUTE_MATCHED:
        if ((req->route->flags & ROUTE_BODY) && request_precheck_or_respond(req) != 0)
            break;
        break;
    case ROUTE_WRONG_METHOD:
        respond_header(req, MHD_HTTP_HEADER_ALLOW, allow);
        /* Any token is a method to libmicrohttpd: the detail must stay UTF-8. */
        snprintf(shown, sizeof shown, "%s", method);
        utf8_sanitize(shown);
        err_set(&e, ERR_METHOD_NOT_ALLOWED, "%s is not allowed on %s (allowed: %s)", shown,
                req->path, allow);
        respond_error(req, &e);
        break;
    case ROUTE_NO_PATH:
        err_set(&e, ERR_NOT_FOUND, "no route for %s", req->path);
        respond_error(req, &e);
        break;
    }
    return req;
}

/* Appends upload data, keeping nothing past the limit. */
static void request_append(struct request *req, const char *data, size_t n)
{
    size_t max = (size_t)req->gw->cfg->body_max;

    if (req->body_too_large)
        return;
    if (req->body_len + n > max) {
        req->body_too_large = 1;
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        return;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : BODY_INITIAL_CAP;
        char *nb;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        nb = realloc(req->body, cap);
        if (nb == NULL) {
            req->body_too_large = 1;
            return;
        }
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
}

static void run_request(struct request *req);
static void run_waiting(void *arg);
static void fill_waiting(void *arg);
static enum MHD_Result queue_held(struct request *req);

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    struct gateway *gw = cls;
    struct request *req = *con_cls;
    struct err e;

    (void)version;
    if (req == NULL) {
        req = request_new(gw, conn, method, url);
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (!req->responded)
            request_append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->waits)                 /* resumed by its waiting thread */
        return queue_held(req);
    if (req->responded)
        return MHD_YES;
    if (req->body_too_large) {
        err_set(&e, ERR_BODY_TOO_LARGE, "request body exceeds the limit of %ld bytes",
                gw->cfg->body_max);
        respond_error(req, &e);
        return MHD_YES;
    }
    if (req->route->flags & ROUTE_WAITS) {
        server_hand_over(req, gw->waiters, run_waiting, req);
        return MHD_YES;
    }
    run_request(req);
    return MHD_YES;
}

/* The gate, when the route has one (and the operator role, when it asks for
 * it), then the handler. */
static void run_request(struct request *req)
{
    struct err e;
    int on_pool;                    /* running on a waiting thread already */

    if (req->route->auth == AUTH_GATED || req->route->auth == AUTH_OPERATOR) {
        int read = (req->route->flags & ROUTE_JOB) && crypto_uuid_valid(req->param);

        if (read) {
            /* Job ids are case-insensitive: the handler gets the canonical form. */
            for (char *p = req->param; *p != '\0'; p++)
                *p = (char)tolower((unsigned char)*p);
            /* A finished job kept in memory needs no read of its hash, when
             * the memory can answer: JSON only (exports render the job). */
            if ((req->route->flags & ROUTE_VIEW) &&
                export_format_parse(request_query(req, "format")) == EXPORT_JSON &&
                view_cache_has(req->gw->views, req->param, clock_now_ms()))
                read = 0;
        }
        int rc = gate_or_respond(req, req->route->rclass, &req->who, read ? req->param : NULL);

        if (rc == GATE_MISS) {
            server_hand_over(req, req->gw->waiters, fill_waiting, req);
            return;
        }
        if (rc != 0)
            return;
        if (req->route->auth == AUTH_OPERATOR && !req->who.is_operator) {
            err_set(&e, ERR_OPERATOR_ONLY, "%s %s is for operators (codeinsight-admin "
                    "user-operator)", req->route->method, req->route->pattern);
            respond_error(req, &e);
            return;
        }
    }
    on_pool = req->waits;
    req->route->handler(req);
    /* A handler that handed the request over (waits set by it) answers
     * later, on another thread: responded is not this thread's to read. */
    if ((on_pool || !req->waits) && !req->responded) {
        err_set(&e, ERR_INTERNAL, "handler sent no response");
        respond_error(req, &e);
    }
}

void server_respond_busy(struct request *req)
{
    struct err e;

    if (__atomic_load_n(&req->gw->stopping, __ATOMIC_ACQUIRE))
        err_set(&e, ERR_SERVER_BUSY, "this server is shutting down; retry shortly");
    else
        err_set(&e, ERR_SERVER_BUSY, "every waiting thread is busy and %ld requests are "
                "queued; retry shortly", req->gw->cfg->http_wait_queue);
    respond_header(req, "Retry-After", "1");
    respond_error(req, &e);
}

int server_hand_over(struct request *req, struct offload *pool, offload_fn *fn, void *arg)
{
    struct MHD_Connection *conn = req->conn;

    /* Held until the pool resumes the connection: no MHD_queue_response
     * from its thread, no callback meanwhile. */
    req->waits = 1;
    MHD_suspend_connection(conn);
    if (offload_submit(pool, fn, arg) == 0)
        return 0;
    server_respond_busy(req);
    MHD_resume_connection(conn);
    return -1;
}

/* On a waiting thread. After the resume the request belongs to MHD again
 * (it may complete and free it at once): nothing touches req past it. */
static void run_waiting(void *arg)
{
    struct request *req = arg;
    struct MHD_Connection *conn = req->conn;

    run_request(req);
    MHD_resume_connection(conn);
}

/* On a waiting thread: the route's handler again (the gate has passed). */
static void handler_waiting(void *arg)
{
    struct request *req = arg;
    struct MHD_Connection *conn = req->conn;
    struct err e;

    req->route->handler(req);
    if (!req->responded) {
        err_set(&e, ERR_INTERNAL, "handler sent no response");
        respond_error(req, &e);
    }
    MHD_resume_connection(conn);
}

int server_rerun_waiting(struct request *req)
{
    return server_hand_over(req, req->gw->waiters, handler_waiting, req);
}

/* On a waiting thread: reads the identity the gate missed from PostgreSQL
 * into the cache. Then the request runs again on a request thread (waits
 * cleared before the resume), or its error answer is held. */
static void fill_waiting(void *arg)
{
    struct request *req = arg;
    struct MHD_Connection *conn = req->conn;
    struct err e;

    if (auth_fill_cache(req, &req->who, &e) == ERR_OK) {
        req->filled = 1;
        req->waits = 0;
    } else {
        gate_respond_error(req, &e);
    }
    MHD_resume_connection(conn);
}

/* Queues the response a waiting thread held; MHD_NO (close) when it could
 * not make one. */
static enum MHD_Result queue_held(struct request *req)
{
    struct MHD_Response *r = req->held;
    enum MHD_Result rc;

    req->held = NULL;
    req->waits = 0;
    if (r == NULL)
        return MHD_NO;
    rc = MHD_queue_response(req->conn, req->held_status, r);
    MHD_destroy_response(r);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *req = *con_cls;
    struct log_line l;
    int quiet;
    int64_t us;

    (void)cls;
    (void)conn;
    if (req == NULL)
        return;
    us = clock_mono_us() - req->start_us;
    observe_request(req, (double)us / 1e6);
    quiet = req->route != NULL && (req->route->flags & ROUTE_QUIET) && req->status < 400;
    log_begin(&l, quiet ? LOG_DEBUG : LOG_INFO, "http_request");
    log_str(&l, "request_id", req->request_id);
    log_str(&l, "method", req->method);
    log_str(&l, "path", req->path);
    log_int(&l, "status", req->status);
    if (req->err_code != NULL)
        log_str(&l, "code", req->err_code);
    log_int(&l, "bytes_in", (int64_t)req->body_len);
    log_ms(&l, "duration_ms", us);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_str(&l, "termination", toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                                   : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client_abort"
                                                                                : "error");
    log_end(&l);
    __atomic_sub_fetch(&req->gw->active, 1, __ATOMIC_ACQ_REL);
    if (req->held != NULL)          /* resumed, but the client had gone */
        MHD_destroy_response(req->held);
    cJSON_Delete(req->prefetched);
    free(req->body);
    free(req);
    *con_cls = NULL;
}

/* Percent-decodes in place, like MHD's default, except that "%00" stays as
 * it is: a NUL must never cut a path short behind the route table's back. */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *r = s, *w = s;

    (void)cls;
    (void)conn;
    while (*r != '\0') {
        int hi, lo;
        if (r[0] == '%' && (hi = crypto_hex_digit(r[1])) >= 0 &&
            (lo = crypto_hex_digit(r[2])) >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strcspn(msg, "\n");
    msg[n] = '\0';
    log_event(LOG_WARN, "http_server_warning", "detail", msg);
}

void server_suspend(void *conn)
{
    MHD_suspend_connection(conn);
}

void server_resume(void *conn)
{
    MHD_resume_connection(conn);
}

/* Each connection is a descriptor: raises the soft RLIMIT_NOFILE towards
 * the hard one when it is below what the connection limit needs. Returns
 * the connection limit the descriptors allow. */
static unsigned fd_limit_raise(unsigned want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + SERVER_FD_SPARE;
    struct log_line l;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return want;
    log_begin(&l, LOG_INFO, "fd_limit_raised");
    log_int(&l, "from", (int64_t)rl.rlim_cur);
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
        rl.rlim_cur = 1024;
    log_int(&l, "to", (int64_t)rl.rlim_cur);
    log_end(&l);
    if (rl.rlim_cur >= need)
        return want;
    log_begin(&l, LOG_WARN, "fd_limit_low");
    log_int(&l, "nofile", (int64_t)rl.rlim_cur);
    log_int(&l, "connections_wanted", want);
    log_str(&l, "detail", "raise the hard RLIMIT_NOFILE (ulimit -Hn, LimitNOFILE=)");
    log_end(&l);
    return rl.rlim_cur > SERVER_FD_SPARE * 2 ? (unsigned)(rl.rlim_cur - SERVER_FD_SPARE)
                                             : (unsigned)rl.rlim_cur / 2;
}

int server_start(struct gateway *gw, struct err *e)
{
    struct sockaddr_in addr;
    long threads = gw->cfg->http_threads;
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem pool[2] = {{MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    struct MHD_Daemon *d;
    unsigned limit = fd_limit_raise(SERVER_CONNECTION_LIMIT +
                                    (unsigned)gw->cfg->sse_max_subscribers);

    long waiting = gw->cfg->http_wait_threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (cores < 1)
        cores = 2;
    if (threads == 0)
        threads = SERVER_THREADS_PER_CORE * cores;
    if (waiting == 0)
        waiting = SERVER_WAIT_THREADS_PER_CORE * cores;
    if (waiting > OFFLOAD_THREADS_MAX)
        waiting = OFFLOAD_THREADS_MAX;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)gw->cfg->port);
    if (inet_pton(AF_INET, gw->cfg->bind, &addr.sin_addr) != 1)
        return err_set(e, ERR_CONFIG, "CODEINSIGHT_BIND is not an IPv4 address: %s",
                       gw->cfg->bind);
    /* Before the first request can arrive. */
    gw->waiters = offload_new((int)waiting, (int)gw->cfg->http_wait_queue, e);
    if (gw->waiters == NULL)
        return e->code;
    gw->admitter = admit_pool_new(gw, e);
    if (gw->admitter == NULL) {
        offload_free(gw->waiters);
        gw->waiters = NULL;
        return e->code;
    }

    /* One request thread is the daemon's own: a pool of one would be
     * ignored with a warning. */
    pool[0].option = threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END;
    pool[0].value = (intptr_t)threads;
    d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                             MHD_ALLOW_SUSPEND_RESUME,
                         (uint16_t)gw->cfg->port, NULL, NULL, on_access, gw,
                         MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, gw,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_ARRAY, pool,
                         MHD_OPTION_CONNECTION_LIMIT, limit,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONNECTION_MEMORY,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)gw->cfg->http_timeout_s,
                         MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, gw,
                         MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, gw,
                         MHD_OPTION_END);
    if (d == NULL) {
        offload_free(gw->admitter);
        offload_free(gw->waiters);
        gw->admitter = NULL;
        gw->waiters = NULL;
        return err_set(e, ERR_IO, "cannot listen on %s:%ld (in use, or not permitted)",
                       gw->cfg->bind, gw->cfg->port);
    }
    gw->daemon = d;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = info ? info->port : (unsigned)gw->cfg->port;
    return ERR_OK;
}

/* Waits, ms at most, until no request is in progress. */
static void drain(struct gateway *gw, int64_t ms)
{
    int64_t deadline = clock_mono_ms() + ms;

    while (__atomic_load_n(&gw->active, __ATOMIC_ACQUIRE) > 0 && clock_mono_ms() < deadline)
        usleep(10000);
}

/* Stops both pools by ms from now; the admission threads first: they may
 * hand work to the waiting threads. Returns the threads still running. */
static int stop_pools_by(struct gateway *gw, int64_t ms)
{
    int64_t deadline = clock_mono_ms() + ms;
    int left = offload_stop_by(gw->admitter, deadline);

    return left + offload_stop_by(gw->waiters, deadline);
}

/* Runs what the pools hold, then gives up the PostgreSQL queries that keep
 * them (their requests are answered 503 database_unavailable). Returns the
 * threads still running even then. */
static int stop_pools(struct gateway *gw)
{
    struct log_line l;
    int left = stop_pools_by(gw, SERVER_POOL_GRACE_MS);

    if (left == 0)
        return 0;
    db_abort_request(&gw->db_abort);
    left = stop_pools_by(gw, SERVER_CANCEL_GRACE_MS);
    log_begin(&l, left > 0 ? LOG_WARN : LOG_INFO, "shutdown_queries_cancelled");
    log_int(&l, "queries", db_abort_cancelled(&gw->db_abort));
    log_int(&l, "threads_left", left);
    log_end(&l);
    return left;
}

int server_stop(struct gateway *gw)
{
    MHD_socket ls;
    int left;

    if (gw->daemon == NULL)
        return 0;
    /* Stop accepting, end the event streams (their clients resume with
     * Last-Event-ID elsewhere; MHD must not stop with suspended
     * connections), let requests in progress finish, then close the rest. */
    __atomic_store_n(&gw->stopping, 1, __ATOMIC_RELEASE);
    ls = MHD_quiesce_daemon(gw->daemon);
    if (gw->subs != NULL)
        subs_close_all(gw->subs);
    drain(gw, SERVER_DRAIN_MS);
    /* Every suspended request is resumed before MHD stops: what is still
     * queued runs (each bounded by its Redis timeouts; PostgreSQL's are
     * given up when the pools' grace is over). The pools stay allocated
     * until MHD has stopped: a keep-alive connection may still send a
     * request meanwhile, which a stopped pool refuses (503 overloaded)
     * instead of it touching freed memory. */
    left = stop_pools(gw);
    /* The requests they resumed last still have their answers to send. */
    drain(gw, SERVER_RESUMED_DRAIN_MS);
    if (left > 0)
        return left;                /* their connections are still suspended */
    MHD_stop_daemon(gw->daemon);
    offload_free(gw->admitter);
    offload_free(gw->waiters);
    gw->admitter = NULL;
    gw->waiters = NULL;
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    gw->daemon = NULL;
    return 0;
}
