/* test_metrics_http.c - unit tests for common/metrics_http.c: the worker's
 * listener serves /metrics and /livez on loopback, and /livez turns 503 once
 * the main loop stops beating. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/metrics.h"
#include "common/metrics_http.h"

#define STALL_MS 1000

static const struct metric_def defs[] = {
    {"t_beats_total", METRIC_COUNTER, "Beats.", NULL, 0, 0, NULL},
};

/* One HTTP/1.0 request to 127.0.0.1:port; the whole answer in buf. Returns
 * the status code. */
static int request(unsigned port, const char *method, const char *path, char *buf, size_t cap)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char req[128];
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &status), 1);
    return status;
}

static const char *body(const char *answer)
{
    const char *b = strstr(answer, "\r\n\r\n");

    assert_non_null(b);
    return b + 4;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_livez_follows_the_beat(void **state)
{
    struct err e;
    struct metrics_http *mh;
    char buf[4096];
    unsigned port;
    (void)state;

    assert_int_equal(metrics_init(defs, 1, 0, &e), ERR_OK);
    mh = metrics_http_start("127.0.0.1", 0, STALL_MS, &e);
    assert_non_null(mh);
    port = metrics_http_port(mh);

    /* No beat yet: the process is starting, not stalled. */
    assert_int_equal(request(port, "GET", "/livez", buf, sizeof buf), 200);
    assert_non_null(strstr(buf, "Content-Type: application/json"));
    assert_string_equal(body(buf), "{\"status\":\"starting\"}\n");

    metrics_http_beat(mh);
    assert_int_equal(request(port, "GET", "/livez", buf, sizeof buf), 200);
    assert_non_null(strstr(body(buf), "{\"status\":\"ok\",\"beat_age_ms\":"));

    /* The loop stopped beating: stalled, with how long ago it last beat. */
    sleep_ms(STALL_MS + 200);
    assert_int_equal(request(port, "GET", "/livez", buf, sizeof buf), 503);
    assert_non_null(strstr(body(buf), "{\"status\":\"stalled\",\"beat_age_ms\":"));
    assert_true(strtol(strstr(body(buf), "beat_age_ms\":") + 13, NULL, 10) > STALL_MS);

    /* It beats again: alive again. */
    metrics_http_beat(mh);
    assert_int_equal(request(port, "GET", "/livez", buf, sizeof buf), 200);

    assert_int_equal(request(port, "HEAD", "/livez", buf, sizeof buf), 200);
    assert_int_equal(request(port, "POST", "/livez", buf, sizeof buf), 405);
    assert_non_null(strstr(buf, "Allow: GET, HEAD"));
    metrics_inc(0, "");
    assert_int_equal(request(port, "GET", "/metrics", buf, sizeof buf), 200);
    assert_non_null(strstr(body(buf), "t_beats_total 1\n"));
    assert_int_equal(request(port, "GET", "/livez/x", buf, sizeof buf), 404);

    metrics_http_stop(mh);
    metrics_cleanup();
}

static void test_bad_address_refused(void **state)
{
    struct err e;
    (void)state;

    assert_null(metrics_http_start("localhost", 0, STALL_MS, &e));
    assert_int_equal(e.code, ERR_CONFIG);
    assert_null(metrics_http_start("127.0.0.1", 70000, STALL_MS, &e));
    assert_int_equal(e.code, ERR_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_livez_follows_the_beat),
        cmocka_unit_test(test_bad_address_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
