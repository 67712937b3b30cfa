/* test_http_client.c - common/http_client.c against a loopback server: what
 * an interim (1xx) response's header fields come to. A 1xx (100 Continue,
 * 103 Early Hints) ends before the final response, and none of its fields
 * (Retry-After, the rate-limit reset, ETag, Location, Content-Type, the
 * header http_get is asked for) may be reported as the final response's. Loopback only;
 * every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/http_client.h"
#include "common/loop.h"
#include "tests/unit/loop_until.h"
#include "tests/unit/loopback_peer.h"

#define WAIT_MS 5000                /* the longest a step may take */

/* An interim response carrying every field the client keeps. */
#define EARLY_HINTS "HTTP/1.1 103 Early Hints\r\nRetry-After: 30\r\n" \
                    "anthropic-ratelimit-requests-reset: 2026-01-01T00:00:00Z\r\n" \
                    "ETag: \"early\"\r\nLocation: /elsewhere\r\n" \
                    "Content-Type: text/html\r\n" \
                    "Cache-Control: max-age=600\r\n\r\n"

/* Final responses with none of those fields. */
static const char *const finals[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
};

struct fx {
    struct loop *loop;
    struct http_async *h;
    struct loopback_peer peer;
    struct loop_until *lu;
    int called;
    struct http_resp r;             /* the answer; body and location not kept */
    int has_location;
};

static void on_done(void *arg, const struct http_resp *r)
{
    struct fx *f = arg;

    f->called++;
    f->r = *r;
    f->r.body = NULL;
    f->has_location = r->location != NULL;
    f->r.location = NULL;
}

static int request_read(void *arg)
{
    struct fx *f = arg;

    return loopback_peer_take(&f->peer) && strstr(f->peer.head, "\r\n\r\n") != NULL;
}

static int called(void *arg) { return ((struct fx *)arg)->called > 0; }

/* GET / with the server answering reply (interim responses and the final
 * one); returns when the callback has run. */
static void exchange(struct fx *f, const char *reply)
{
    struct http_req rq = {.timeout_ms = WAIT_MS, .connect_timeout_ms = WAIT_MS,
                          .max_response = 1024};
    char url[64];
    struct err e;

    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f->peer.port);
    rq.url = url;
    loopback_peer_drop(&f->peer);
    f->called = 0;
    if (http_async_request(f->h, &rq, on_done, f, &e) != ERR_OK)
        fail_msg("http_async_request: %s", e.msg);
    assert_true(loop_until_run(f->lu, request_read, f, WAIT_MS));
    loopback_peer_say(&f->peer, reply);
    assert_true(loop_until_run(f->lu, called, f, WAIT_MS));
    assert_int_equal(f->called, 1);
    assert_true(f->r.transport_ok);
}

/* http_async: a 103's fields are not the final 200's, 429's or 503's; the
 * final response's own fields still count. */
static void test_async_forgets_an_interim_responses_fields(void **state)
{
    struct fx f;
    struct err e;
    char reply[1024];
    static const long want[] = {200, 429, 503};

    (void)state;
    memset(&f, 0, sizeof f);
    if ((f.loop = loop_new(&e)) == NULL || (f.h = http_async_new(f.loop, &e)) == NULL)
        fail_msg("setup: %s", e.msg);
    f.lu = loop_until_new(f.loop);
    loopback_peer_start(&f.peer);
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        snprintf(reply, sizeof reply, "%s%s", EARLY_HINTS, finals[i]);
        exchange(&f, reply);
        assert_int_equal(f.r.status, want[i]);
        if (f.r.retry_after[0] != '\0' || f.r.reset[0] != '\0' || f.r.etag[0] != '\0' ||
            f.r.content_type[0] != '\0' || f.has_location)
            fail_msg("HTTP %ld kept the 103's retry_after '%s', reset '%s', etag '%s', "
                     "content_type '%s', location %d", f.r.status, f.r.retry_after, f.r.reset,
                     f.r.etag, f.r.content_type, f.has_location);
    }
    /* The final response's own, after a 103 that had others. */
    exchange(&f, EARLY_HINTS "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\n"
             "ETag: \"final\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assert_string_equal(f.r.retry_after, "2");
    assert_string_equal(f.r.etag, "\"final\"");
    assert_string_equal(f.r.reset, "");
    assert_string_equal(f.r.content_type, "");
    assert_false(f.has_location);
    /* A 100 Continue's too. */
    exchange(&f, "HTTP/1.1 100 Continue\r\nRetry-After: 9\r\n\r\n"
             "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n");
    assert_string_equal(f.r.retry_after, "");
    loop_until_free(f.lu);
    http_async_free(f.h);
    loop_free(f.loop);
    loopback_peer_stop(&f.peer);
}

/* A thread answering one connection of http_get (which blocks) with reply. */
struct canned {
    struct loopback_peer peer;
    const char *reply;
    pthread_t thread;
};

static void *canned_serve(void *arg)
{
    struct canned *c = arg;
    struct pollfd q = {.fd = c->peer.lfd, .events = POLLIN};

    /* No cmocka here (another thread): a failure shows as http_get's. */
    for (int waited = 0; waited < WAIT_MS; waited += 5) {
        if (c->peer.cfd < 0 && poll(&q, 1, 5) != 1)
            continue;
        if (loopback_peer_take(&c->peer) && strstr(c->peer.head, "\r\n\r\n") != NULL) {
            (void)!send(c->peer.cfd, c->reply, strlen(c->reply), MSG_NOSIGNAL);
            break;
        }
        poll(NULL, 0, 5);
    }
    return NULL;
}

/* http_get: the header asked for is the final response's, not a 103's. */
static void test_get_forgets_an_interim_responses_header(void **state)
{
    struct http_header hdr = {.name = "Cache-Control"};
    struct canned c;
    char url[64], reply[1024], *body;
    size_t len;
    long status;
    struct err e;

    (void)state;
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        memset(&c, 0, sizeof c);
        loopback_peer_start(&c.peer);
        snprintf(reply, sizeof reply, "%s%s", EARLY_HINTS, finals[i]);
        c.reply = reply;
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", c.peer.port);
        assert_int_equal(pthread_create(&c.thread, NULL, canned_serve, &c), 0);
        assert_int_equal(http_get(url, WAIT_MS, 1024, &body, &len, &status, &hdr, &e), ERR_OK);
        pthread_join(c.thread, NULL);
        loopback_peer_stop(&c.peer);
        free(body);
        assert_true(status == 200 || status == 429 || status == 503);
        assert_int_equal(hdr.found, 0);
        assert_int_equal(hdr.too_long, 0);
        assert_string_equal(hdr.value, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_forgets_an_interim_responses_fields),
        cmocka_unit_test(test_get_forgets_an_interim_responses_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
