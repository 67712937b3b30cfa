/* test_stress.c - the stress engine (worker/stress.c) on a real loop against
 * a small HTTP/1.1 server this test runs in threads on 127.0.0.1. The server
 * counts what it saw (requests by path, requests in flight at once, arrival
 * times), so each test compares the report with what really happened.
 * Loopback only; every run is bounded (about a second at most) and a
 * watchdog stops a run that hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "tests/unit/jsonassert.h"
#include "common/loop.h"
#include "common/stress_spec.h"
#include "common/target_policy.h"
#include "worker/stress.h"

/* ---- the server ---- */

#define SRV_WORKERS_MAX 256     /* connections served over one server's life */
#define SRV_ARRIVALS_MAX 4096
#define SLOW_MS 50              /* /slow answers after this */
#define HANG_MS 400             /* /hang answers after this */
#define WATCHDOG_MS 15000
/* A run that stops "at once" (refused, aborted, cancelled) is given this
 * duration and must end in under half of it: far from the duration, loose
 * enough for a slow machine. */
#define LONG_RUN_S 5
#define AT_ONCE_US (LONG_RUN_S * 1000000LL / 2)
#define STR_(x) #x
#define STR(x) STR_(x)
#define LONG_RUN "\"duration_s\":" STR(LONG_RUN_S)

enum srv_path { P_FAST, P_SLOW, P_ERR, P_REDIR302, P_REDIR_OK, P_ECHO, P_HEAD, P_HANG, P_OTHER,
                P__COUNT };

static const char *const srv_paths[P_OTHER] = {"/fast", "/slow", "/err", "/redir302",
                                               "/redir-ok", "/echo", "/head", "/hang"};

struct srv {
    int fd;
    int port;
    pthread_t acceptor;
    atomic_int stop;
    pthread_mutex_t mu;
    /* Under mu: */
    int count[P__COUNT];            /* requests by path */
    int total;
    int accepted;                   /* connections */
    int inflight, max_inflight;     /* requests read and not yet answered */
    int64_t arrival_us[SRV_ARRIVALS_MAX];
    char last_method[16];           /* of /echo */
    char last_body[128];
    char last_xtest[64];
    pthread_t workers[SRV_WORKERS_MAX];
    int nworkers;
};

struct srv_conn {
    struct srv *s;
    int fd;
};

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;     /* the client gave up (a timeout) */
        p += w;
        n -= (size_t)w;
    }
}

/* Sleeps ms in small steps, returning early when the server stops. */
static void nap(struct srv *s, int ms)
{
    for (int i = 0; i < ms && !atomic_load(&s->stop); i += 5) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* 1 when fd has data; 0 when the server stops or poll fails. */
static int wait_readable(struct srv *s, int fd)
{
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 20);

        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 0;
    }
    return 0;
}

/* Value of header name (lower case, with ':') in the lower-cased head, copied
 * from the original head into out. */
static void header_value(const char *head, const char *lower, const char *name, char *out,
                         size_t cap)
{
    const char *p = strstr(lower, name);
    size_t n = 0;

    out[0] = '\0';
    if (p == NULL)
        return;
    p = head + (p - lower) + strlen(name);
    while (*p == ' ')
        p++;
    while (p[n] != '\r' && p[n] != '\0' && n + 1 < cap)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void answer(struct srv *s, int fd, const char *method, const char *path,
                   const char *body, size_t body_len, const char *xtest)
{
    char resp[512];
    enum srv_path which = P_OTHER;
    const char *status = "200 OK", *extra = "", *text = "ok\n";
    size_t plen = strcspn(path, "?");
    int n;

    for (int i = 0; i < P_OTHER; i++)
        if (strlen(srv_paths[i]) == plen && strncmp(path, srv_paths[i], plen) == 0)
            which = (enum srv_path)i;
    pthread_mutex_lock(&s->mu);
    if (s->total < SRV_ARRIVALS_MAX)
        s->arrival_us[s->total] = clock_mono_us();
    s->total++;
    s->count[which]++;
    if (++s->inflight > s->max_inflight)
        s->max_inflight = s->inflight;
    if (which == P_ECHO) {
        snprintf(s->last_method, sizeof s->last_method, "%s", method);
        snprintf(s->last_body, sizeof s->last_body, "%.*s", (int)body_len, body);
        snprintf(s->last_xtest, sizeof s->last_xtest, "%s", xtest);
    }
    pthread_mutex_unlock(&s->mu);

    if (which == P_SLOW)
        nap(s, SLOW_MS);
    else if (which == P_HANG)
        nap(s, HANG_MS);
    if (which == P_ERR) {
        status = "500 Internal Server Error";
        text = "boom\n";
    } else if (which == P_REDIR302) {
        status = "302 Found";
        extra = "Location: http://10.0.0.1/x\r\n";
    } else if (which == P_REDIR_OK) {
        status = "302 Found";
        extra = "Location: /fast\r\n";
    } else if (which == P_OTHER) {
        status = "404 Not Found";
    }
    n = snprintf(resp, sizeof resp, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n\r\n%s", status,
                 extra, strlen(text), strcmp(method, "HEAD") == 0 ? "" : text);
    /* Answered before the bytes leave, so a client that sends its next
     * request the moment it reads this one is never counted twice. */
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_mutex_unlock(&s->mu);
    send_all(fd, resp, (size_t)n);
}

/* Serves one keep-alive connection until the client closes it. */
static void *conn_main(void *arg)
{
    struct srv_conn *c = arg;
    struct srv *s = c->s;
    int fd = c->fd;
    char buf[16384];
    size_t n = 0;

    free(c);
    for (;;) {
        char head[4096], lower[4096], method[16] = "", path[2048] = "", value[64];
        size_t hlen, clen;
        char *end;

        while ((end = memmem(buf, n, "\r\n\r\n", 4)) == NULL) {
            ssize_t r;

            if (n == sizeof buf || !wait_readable(s, fd))
                goto out;
            r = recv(fd, buf + n, sizeof buf - n, 0);
            if (r <= 0)
                goto out;
            n += (size_t)r;
        }
        hlen = (size_t)(end - buf) + 4;
        if (hlen >= sizeof head)
            goto out;
        memcpy(head, buf, hlen);
        head[hlen] = '\0';
        for (size_t i = 0; i <= hlen; i++)
            lower[i] = (char)tolower((unsigned char)head[i]);
        sscanf(head, "%15s %2047s", method, path);
        header_value(head, lower, "\r\ncontent-length:", value, sizeof value);
        clen = value[0] ? strtoul(value, NULL, 10) : 0;
        if (clen > sizeof buf - hlen)
            goto out;
        while (n < hlen + clen) {
            ssize_t r;

            if (!wait_readable(s, fd) || (r = recv(fd, buf + n, sizeof buf - n, 0)) <= 0)
                goto out;
            n += (size_t)r;
        }
        header_value(head, lower, "\r\nx-test:", value, sizeof value);
        answer(s, fd, method, path, buf + hlen, clen, value);
        memmove(buf, buf + hlen + clen, n - hlen - clen);
        n -= hlen + clen;
    }
out:
    close(fd);
    return NULL;
}

static void *acceptor_main(void *arg)
{
    struct srv *s = arg;

    while (wait_readable(s, s->fd)) {
        struct srv_conn *c;
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->accepted++;
        c = s->nworkers < SRV_WORKERS_MAX ? malloc(sizeof *c) : NULL;
        if (c != NULL) {
            c->s = s;
            c->fd = fd;
            if (pthread_create(&s->workers[s->nworkers], NULL, conn_main, c) == 0) {
                s->nworkers++;
            } else {
                free(c);
                close(fd);
            }
        } else {
            close(fd);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static struct srv *srv_start(void)
{
    struct srv *s = calloc(1, sizeof *s);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1;

    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 128), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->acceptor, NULL, acceptor_main, s), 0);
    return s;
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- running the engine ---- */

struct run {
    struct loop *loop;
    struct stress *stress;
    int done;
    int watchdog_fired;
    int rc;
    struct err e;
    cJSON *report;          /* owns */
    int64_t started_us;     /* monotonic, just before stress_start */
    int64_t elapsed_us;     /* start to done */
};

static void on_done(void *arg, int rc, const struct err *e, cJSON *report)
{
    struct run *r = arg;

    r->done++;
    r->rc = rc;
    r->e = *e;
    r->report = report;
    loop_stop(r->loop);
}

static void on_watchdog(void *arg)
{
    struct run *r = arg;

    r->watchdog_fired = 1;
    loop_stop(r->loop);
}

static void on_cancel(void *arg)
{
    struct run *r = arg;

    stress_cancel(r->stress);
    r->stress = NULL;
    loop_stop(r->loop);
}

static struct config test_config(long timeout_ms)
{
    struct config c;

    memset(&c, 0, sizeof c);
    c.stress_max_rps = 1000;
    c.stress_max_concurrency = 50;
    c.stress_max_duration_s = 10;
    c.stress_max_requests = 10000;
    c.stress_timeout_ms = timeout_ms;
    return c;
}

/* Runs the spec json under the allow-list `list` until it ends (or, with
 * cancel_ms > 0, until it is cancelled then). */
static void run_full(struct run *r, const char *list, const char *json, long timeout_ms,
                     int cancel_ms)
{
    struct config cfg = test_config(timeout_ms);
    struct target_policy *policy = NULL;
    struct stress_spec *spec = NULL;
    struct loop_timer *watchdog, *cancel = NULL;
    cJSON *doc = cJSON_Parse(json);
    struct err e;
    int64_t t0;

    memset(r, 0, sizeof *r);
    assert_non_null(doc);
    err_clear(&e);
    if (stress_spec_parse(doc, &cfg, &spec, &e) != ERR_OK)
        print_error("spec %s: %s %s\n", json, e.field, e.msg);
    assert_non_null(spec);
    cJSON_Delete(doc);
    assert_int_equal(target_policy_new(list, &policy, &e), ERR_OK);
    r->loop = loop_new(&e);
    assert_non_null(r->loop);
    watchdog = loop_timer_new(r->loop, on_watchdog, r);
    assert_non_null(watchdog);
    loop_timer_start(watchdog, WATCHDOG_MS, 0);
    t0 = r->started_us = clock_mono_us();
    r->stress = stress_start(r->loop, &cfg, spec, policy, on_done, r, &e);
    if (r->stress == NULL)
        print_error("stress_start: %s\n", e.msg);
    assert_non_null(r->stress);
    if (cancel_ms > 0) {
        cancel = loop_timer_new(r->loop, on_cancel, r);
        loop_timer_start(cancel, (uint64_t)cancel_ms, 0);
    }
    loop_run(r->loop);
    r->elapsed_us = clock_mono_us() - t0;
    if (!r->done && r->stress != NULL)
        stress_cancel(r->stress);
    loop_timer_free(watchdog);
    loop_timer_free(cancel);
    loop_free(r->loop);
    stress_spec_free(spec);
    target_policy_free(policy);
    assert_false(r->watchdog_fired);
}

static void run(struct run *r, const char *list, const char *json)
{
    run_full(r, list, json, 2000, 0);
}

/* Runs, under `list`, one GET of path on http://host:<the server's port>
 * with the spec members `limits` ("\"rate\":10,..."). */
static void run_get(struct run *r, const struct srv *s, const char *list, const char *host,
                    const char *path, const char *limits, long timeout_ms, int cancel_ms)
{
    char json[512];

    snprintf(json, sizeof json,
             "{\"base_url\":\"http://%s:%d\",\"requests\":[{\"method\":\"GET\",\"path\":\"%s\"}],"
             "%s}", host, s->port, path, limits);
    run_full(r, list, json, timeout_ms, cancel_ms);
}

/* Asserts the server never saw a connection. */
static void expect_untouched(struct srv *s)
{
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->accepted, 0);
    assert_int_equal(s->total, 0);
    pthread_mutex_unlock(&s->mu);
}

static void run_cleanup(struct run *r)
{
    cJSON_Delete(r->report);
    r->report = NULL;
}

static void expect_ok(const struct run *r)
{
    if (r->rc != ERR_OK)
        print_error("run failed: %s: %s\n", err_code_str((enum err_code)r->rc), r->e.msg);
    assert_int_equal(r->done, 1);
    assert_int_equal(r->rc, ERR_OK);
    assert_non_null(r->report);
}

static void expect_refused(const struct run *r, int code, const char *needle)
{
    if (r->rc != code || strstr(r->e.msg, needle) == NULL)
        print_error("got %s: %s; want %s with \"%s\"\n", err_code_str((enum err_code)r->rc),
                    r->e.msg, err_code_str((enum err_code)code), needle);
    assert_int_equal(r->done, 1);
    assert_int_equal(r->rc, code);
    assert_int_equal(r->e.code, code);
    assert_null(r->report);
    assert_non_null(strstr(r->e.msg, needle));
}

/* ---- tests ---- */

/* Six endpoints by weight 3:1:1:1:1:1 at 100/s for 1 s: every count, error
 * rate and status matches what the server saw; /slow is the slowest. */
static void test_mixed_endpoints(void **state)
{
    static const struct {
        const char *path;
        int which;
        int weight;
    } eps[] = {{"/fast", P_FAST, 3}, {"/slow", P_SLOW, 1}, {"/err", P_ERR, 1},
               {"/redir-ok", P_REDIR_OK, 1}, {"/echo", P_ECHO, 1}, {"/head", P_HEAD, 1}};
    struct srv *s = srv_start();
    char json[2048];
    struct run r;
    const cJSON *endpoints;
    long sent, errors;
    (void)state;

    snprintf(json, sizeof json,
             "{\"base_url\":\"http://127.0.0.1:%d\",\"requests\":["
             "{\"method\":\"GET\",\"path\":\"/fast\",\"weight\":3},"
             "{\"method\":\"GET\",\"path\":\"/slow\"},"
             "{\"method\":\"GET\",\"path\":\"/err\"},"
             "{\"method\":\"GET\",\"path\":\"/redir-ok\"},"
             "{\"method\":\"POST\",\"path\":\"/echo\",\"body\":\"hello\","
             "\"headers\":{\"X-Test\":\"yes\",\"Content-Type\":\"text/plain\"}},"
             "{\"method\":\"HEAD\",\"path\":\"/head\"}],"
             "\"rate\":100,\"duration_s\":1,\"concurrency\":10,\"max_requests\":1000}",
             s->port);
    run(&r, "127.0.0.1", json);
    expect_ok(&r);

    sent = (long)ja_num(r.report, "requests_sent");
    pthread_mutex_lock(&s->mu);
    assert_int_equal(sent, s->total);
    assert_int_equal(s->count[P_OTHER], 0);
    assert_string_equal(s->last_method, "POST");
    assert_string_equal(s->last_body, "hello");
    assert_string_equal(s->last_xtest, "yes");
    pthread_mutex_unlock(&s->mu);
    /* At most the 100 due before the deadline; at least one round of the
     * weights (8), which reaches every endpoint, however slow the machine
     * (under valgrind the client is CPU-bound). test_rate_cap checks pacing. */
    if (sent < 8 || sent > 100)
        print_error("%ld requests sent\n", sent);
    assert_true(sent >= 8 && sent <= 100);
    assert_string_equal(json_str(r.report, "stopped"), "duration");
    assert_true(ja_num(r.report, "completed") == sent);
    assert_true(ja_num(r.report, "transport_errors") == 0);
    assert_true(ja_num(r.report, "client_errors") == 0);
    assert_true(ja_num(r.report, "duration_s") >= 1.0 && ja_num(r.report, "duration_s") < 2.0);

    endpoints = ja_member(r.report, "endpoints");
    assert_int_equal(cJSON_GetArraySize(endpoints), 6);
    errors = 0;
    for (int i = 0; i < 6; i++) {
        const cJSON *ep = cJSON_GetArrayItem(endpoints, i);
        const cJSON *st = ja_member(ep, "status_counts");
        long n = (long)ja_num(ep, "requests");

        assert_string_equal(json_str(ep, "path"), eps[i].path);
        assert_int_equal(n, s->count[eps[i].which]);
        assert_true(ja_num(ep, "completed") == n);
        /* Smooth weighted round-robin keeps each share within a request. */
        assert_true(labs(n * 8 - sent * eps[i].weight) <= 8);
        if (eps[i].which == P_ERR) {
            assert_true(ja_num(ep, "errors") == n);
            assert_true(ja_num(ep, "error_rate") == 1);
            assert_true(ja_num(st, "500") == n);
            errors += n;
        } else {
            assert_true(ja_num(ep, "errors") == 0);
            assert_true(ja_num(ep, "error_rate") == 0);
            assert_true(ja_num(st, eps[i].which == P_REDIR_OK ? "302" : "200") == n);
        }
        assert_int_equal(cJSON_GetArraySize(st), 1);
    }
    assert_string_equal(json_str(cJSON_GetArrayItem(endpoints, 4), "method"), "POST");
    assert_string_equal(json_str(cJSON_GetArrayItem(endpoints, 5), "method"), "HEAD");
    assert_true(ja_num(r.report, "errors") == errors);
    assert_true(ja_num(r.report, "error_rate") == round((double)errors / (double)sent * 1e4) / 1e4);
    assert_true(ja_num(ja_member(r.report, "status_counts"), "500") == errors);

    {
        const cJSON *fast = ja_member(cJSON_GetArrayItem(endpoints, 0), "latency_ms");
        const cJSON *slow = ja_member(cJSON_GetArrayItem(endpoints, 1), "latency_ms");
        const cJSON *top = cJSON_GetArrayItem(ja_member(r.report, "slowest"), 0);

        assert_true(ja_num(slow, "p50") >= SLOW_MS);
        assert_true(ja_num(fast, "p50") < ja_num(slow, "p50"));
        assert_string_equal(json_str(top, "path"), "/slow");
        assert_true(ja_num(top, "p95_ms") >= SLOW_MS);
    }
    run_cleanup(&r);
    srv_stop(s);
}

/* 20/s for 1 s: at most 20 requests, and the k-th no earlier than k/20 s
 * after the start (pacing, not a burst). The run's start is taken before
 * stress_start, so the bound needs no tolerance. */
static void test_rate_cap(void **state)
{
    struct srv *s = srv_start();
    struct run r;
    (void)state;

    run_get(&r, s, "127.0.0.1", "127.0.0.1", "/fast",
            "\"rate\":20,\"duration_s\":1,\"concurrency\":5,\"max_requests\":1000", 2000, 0);
    expect_ok(&r);
    pthread_mutex_lock(&s->mu);
    assert_true(s->total >= 10 && s->total <= 20);
    assert_true(ja_num(r.report, "requests_sent") == s->total);
    for (int k = 0; k < s->total; k++) {
        int64_t since = s->arrival_us[k] - r.started_us;

        if (since < (int64_t)k * 50000)
            print_error("request %d arrived %lld us after the start\n", k, (long long)since);
        assert_true(since >= (int64_t)k * 50000);
    }
    pthread_mutex_unlock(&s->mu);
    assert_string_equal(json_str(r.report, "stopped"), "duration");
    run_cleanup(&r);
    srv_stop(s);
}

/* /slow at 500/s with concurrency 3: the server never has more than 3
 * requests in flight, and the rate is bounded by 3 per 50 ms. */
static void test_concurrency_cap(void **state)
{
    struct srv *s = srv_start();
    struct run r;
    (void)state;

    run_get(&r, s, "127.0.0.1", "127.0.0.1", "/slow",
            "\"rate\":500,\"duration_s\":1,\"concurrency\":3,\"max_requests\":1000", 2000, 0);
    expect_ok(&r);
    pthread_mutex_lock(&s->mu);
    if (s->max_inflight > 3)
        print_error("the server saw %d requests in flight\n", s->max_inflight);
    assert_true(s->max_inflight <= 3);
    assert_true(s->max_inflight >= 2);
    assert_true(ja_num(r.report, "requests_sent") == s->total);
    assert_true(ja_num(r.report, "completed") == s->total);
    /* 3 per SLOW_MS for 1 s, plus those in flight at the deadline. */
    assert_true(s->total <= 3 * (1000 / SLOW_MS) + 3);
    pthread_mutex_unlock(&s->mu);
    run_cleanup(&r);
    srv_stop(s);
}

static void test_max_requests(void **state)
{
    struct srv *s = srv_start();
    struct run r;
    (void)state;

    run_get(&r, s, "127.0.0.1", "127.0.0.1", "/fast",
            "\"rate\":100,\"duration_s\":5,\"concurrency\":2,\"max_requests\":7", 2000, 0);
    expect_ok(&r);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->total, 7);
    assert_int_equal(s->count[P_FAST], 7);
    pthread_mutex_unlock(&s->mu);
    assert_true(ja_num(r.report, "requests_sent") == 7);
    assert_true(ja_num(r.report, "completed") == 7);
    assert_string_equal(json_str(r.report, "stopped"), "max_requests");
    assert_true(ja_num(r.report, "duration_s") < 1.0);
    run_cleanup(&r);
    srv_stop(s);
}

/* A host not on the list, or an empty list: refused, nothing sent. */
static void test_refused_before_sending(void **state)
{
    static const char limits[] = "\"rate\":10,\"duration_s\":1";
    struct srv *s = srv_start();
    struct run r;
    (void)state;

    run_get(&r, s, "127.0.0.1", "localhost", "/fast", limits, 2000, 0);
    expect_refused(&r, ERR_TARGET_NOT_ALLOWED, "host localhost is not listed");
    assert_int_equal(r.e.http_status, 422);
    run_get(&r, s, "", "127.0.0.1", "/fast", limits, 2000, 0);
    expect_refused(&r, ERR_FEATURE_DISABLED, "CODEINSIGHT_STRESS_ALLOWED_HOSTS");
    assert_int_equal(r.e.http_status, 403);
    run_get(&r, s, "example.com", "127.0.0.1", "/fast", limits, 2000, 0);
    expect_refused(&r, ERR_TARGET_NOT_ALLOWED, "loopback");
    expect_untouched(s);
    srv_stop(s);
}

/* "localhost" is listed but resolves to loopback addresses, which are not:
 * refused when connecting, before a byte is sent. */
static void test_refused_at_connect(void **state)
{
    struct srv *s = srv_start();
    struct run r;
    (void)state;

    run_get(&r, s, "localhost", "localhost", "/fast", "\"rate\":10," LONG_RUN, 2000, 0);
    expect_refused(&r, ERR_TARGET_NOT_ALLOWED, "connection refused: address ");
    expect_refused(&r, ERR_TARGET_NOT_ALLOWED, "loopback");
    assert_true(r.elapsed_us < AT_ONCE_US);
    expect_untouched(s);
    srv_stop(s);
}

/* A 302 to a private address stops the run at once. */
static void test_redirect_to_private_aborts(void **state)
{
    struct srv *s = srv_start();
    char json[512];
    struct run r;
    (void)state;

    snprintf(json, sizeof json,
             "{\"base_url\":\"http://127.0.0.1:%d\",\"requests\":["
             "{\"method\":\"GET\",\"path\":\"/redir302\"},{\"method\":\"GET\",\"path\":\"/fast\"}],"
             "\"rate\":20," LONG_RUN ",\"concurrency\":1}", s->port);
    run(&r, "127.0.0.1", json);
    expect_refused(&r, ERR_TARGET_NOT_ALLOWED, "redirect to http://10.0.0.1/x refused: ");
    assert_non_null(strstr(r.e.msg, "private"));
    assert_int_equal(strncmp(r.e.msg, "redirect to ", 12), 0);
    assert_true(r.elapsed_us < AT_ONCE_US);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->count[P_REDIR302], 1);
    assert_true(s->total <= 2);
    pthread_mutex_unlock(&s->mu);
    srv_stop(s);
}

/* Requests that outlive cfg->stress_timeout_ms count as timeouts. */
static void test_timeouts_are_errors(void **state)
{
    struct srv *s = srv_start();
    struct run r;
    const cJSON *ep;
    (void)state;

    run_get(&r, s, "127.0.0.1", "127.0.0.1", "/hang",
            "\"rate\":10,\"duration_s\":1,\"concurrency\":2,\"max_requests\":2", 150, 0);
    expect_ok(&r);
    ep = cJSON_GetArrayItem(ja_member(r.report, "endpoints"), 0);
    assert_true(ja_num(r.report, "requests_sent") == 2);
    assert_true(ja_num(r.report, "completed") == 0);
    assert_true(ja_num(r.report, "transport_errors") == 2);
    assert_true(ja_num(r.report, "timeouts") == 2);
    assert_true(ja_num(r.report, "errors") == 2);
    assert_true(ja_num(r.report, "error_rate") == 1);
    assert_true(ja_num(ep, "timeouts") == 2);
    assert_true(cJSON_IsNull(ja_member(ja_member(r.report, "latency_ms"), "p50")));
    run_cleanup(&r);
    srv_stop(s);
}

/* stress_cancel mid-run: no callback, nothing leaks (ASan). */
static void test_cancel(void **state)
{
    struct srv *s = srv_start();
    struct run r;
    (void)state;

    run_get(&r, s, "127.0.0.1", "127.0.0.1", "/slow",
            "\"rate\":100," LONG_RUN ",\"concurrency\":4", 2000, 150);
    assert_int_equal(r.done, 0);
    assert_null(r.report);
    assert_true(r.elapsed_us < AT_ONCE_US);
    pthread_mutex_lock(&s->mu);
    assert_true(s->total >= 1);
    pthread_mutex_unlock(&s->mu);
    srv_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_endpoints),
        cmocka_unit_test(test_rate_cap),
        cmocka_unit_test(test_concurrency_cap),
        cmocka_unit_test(test_max_requests),
        cmocka_unit_test(test_refused_before_sending),
        cmocka_unit_test(test_refused_at_connect),
        cmocka_unit_test(test_redirect_to_private_aborts),
        cmocka_unit_test(test_timeouts_are_errors),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
