/* test_cli_api.c - conditional requests of the CLI's client (cli/api.c over
 * common/http_client.c), against a server that answers when told
 * (tests/unit/loopback_peer.h): the tag given is sent as If-None-Match and
 * nothing else is; a response's ETag is handed over when it is one
 * entity-tag kept whole, never cut at HTTP_ETAG_MAX nor taken from a 1xx;
 * a 304 without a body is a complete answer. Loopback only; every wait is
 * bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/api.h"
#include "common/err.h"
#include "common/http_client.h"
#include "tests/unit/loop_until.h"
#include "tests/unit/loopback_peer.h"

#define WAIT_MS 5000                /* the longest a step may take */

struct fx {
    struct api api;
    struct loopback_peer peer;
    struct loop_until *lu;
    int called;
    int transport_ok;
    long status;
    size_t len;
    int has_json;
    char etag[HTTP_ETAG_MAX + 8];   /* the answer's etag, "(null)" when NULL */
    long retry_after_s;
    char why[API_DESCRIBE_MAX];     /* api_describe of the answer */
    int no_cache;                   /* the next exchange asks for a fresh answer */
};

static void on_done(void *arg, const struct api_resp *r)
{
    struct fx *f = arg;

    f->called++;
    f->transport_ok = r->transport_ok;
    f->status = r->status;
    f->len = r->len;
    f->has_json = r->json != NULL;
    snprintf(f->etag, sizeof f->etag, "%s", r->etag != NULL ? r->etag : "(null)");
    f->retry_after_s = r->retry_after_s;
    api_describe(r, f->why, sizeof f->why);
}

/* A whole request head was read. */
static int request_read(void *arg)
{
    struct fx *f = arg;

    return loopback_peer_take(&f->peer) && strstr(f->peer.head, "\r\n\r\n") != NULL;
}

static int called(void *arg) { return ((struct fx *)arg)->called > 0; }

static void fx_init(struct fx *f)
{
    char url[64];
    struct err e;

    memset(f, 0, sizeof *f);
    loopback_peer_start(&f->peer);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f->peer.port);
    if (api_init(&f->api, url, NULL, &e) != ERR_OK)
        fail_msg("api_init: %s", e.msg);
    f->lu = loop_until_new(f->api.loop);
}

static void fx_cleanup(struct fx *f)
{
    loop_until_free(f->lu);
    api_cleanup(&f->api);
    loopback_peer_stop(&f->peer);
}

/* GET /job/x with tag as If-None-Match (NULL: none); the server reads it,
 * answers reply and closes. The request head stays in f->peer.head until
 * the next exchange (hang_up 0). Returns when the callback has run, the
 * answer whole or, cut short by hang_up, not. */
static void exchange_any(struct fx *f, const char *tag, const char *reply, int hang_up)
{
    struct api_ask ask = {.if_none_match = tag, .no_cache = f->no_cache};
    char msg[160];

    loopback_peer_drop(&f->peer);
    f->called = 0;
    if (api_send(&f->api, "GET", "/job/x", NULL, &ask, 0, on_done, f, msg, sizeof msg) != 0)
        fail_msg("api_send: %s", msg);
    assert_true(loop_until_run(f->lu, request_read, f, WAIT_MS));
    loopback_peer_say(&f->peer, reply);
    if (hang_up)
        loopback_peer_drop(&f->peer);
    assert_true(loop_until_run(f->lu, called, f, WAIT_MS));
    assert_int_equal(f->called, 1);
}

/* The same, for a whole answer. */
static void exchange(struct fx *f, const char *tag, const char *reply)
{
    exchange_any(f, tag, reply, 0);
    assert_true(f->transport_ok);
}

/* The tag goes out as If-None-Match, and a 304 without a body is an answer
 * (no JSON), its ETag handed over; without a tag, no If-None-Match. */
static void test_if_none_match_and_304(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f);
    exchange(&f, "\"0123abcd\"", "HTTP/1.1 304 Not Modified\r\nETag: \"0123abcd\"\r\n"
             "Connection: close\r\n\r\n");
    assert_non_null(strstr(f.peer.head, "\r\nIf-None-Match: \"0123abcd\"\r\n"));
    assert_int_equal(f.status, 304);
    assert_int_equal(f.len, 0);
    assert_false(f.has_json);
    assert_string_equal(f.etag, "\"0123abcd\"");

    exchange(&f, "W/\"v2\"", "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(f.peer.head, "\r\nIf-None-Match: W/\"v2\"\r\n"));
    assert_string_equal(f.etag, "(null)");

    exchange(&f, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assert_null(strstr(f.peer.head, "If-None-Match"));
    assert_null(strstr(f.peer.head, "Cache-Control"));
    assert_int_equal(f.status, 200);
    assert_true(f.has_json);

    /* A fresh review asked for (review --no-cache). */
    f.no_cache = 1;
    exchange(&f, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assert_non_null(strstr(f.peer.head, "\r\nCache-Control: no-cache\r\n"));
    fx_cleanup(&f);
}

/* A tag that is not one entity-tag is not sent: it would be a header line
 * of the caller's making. */
static void test_a_malformed_tag_is_not_sent(void **state)
{
    static const char *const bad[] = {"", "abc", "\"a\"\r\nX-Evil: 1", "\"a b\"", "\"a\"b\"",
                                      "W/abc", "\"", "\"a\", \"b\""};
    struct fx f;
    char msg[160];

    (void)state;
    fx_init(&f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        struct api_ask ask = {.if_none_match = bad[i]};
        if (api_send(&f.api, "GET", "/job/x", NULL, &ask, 0, on_done, &f, msg, sizeof msg) != -1)
            fail_msg("sent If-None-Match: %s", bad[i]);
        assert_string_equal(msg, "not an entity tag");
    }
    loop_until_run(f.lu, NULL, NULL, 50);
    assert_int_equal(f.called, 0);
    assert_false(loopback_peer_pending(&f.peer));
    fx_cleanup(&f);
}

/* Which ETag headers are handed over: one entity-tag, strong or weak,
 * blanks trimmed, kept whole; not a malformed one, not a list, not one over
 * HTTP_ETAG_MAX - 1 bytes (cut, it would name something else), not a 1xx's. */
static void test_which_etags_are_kept(void **state)
{
    char fits[HTTP_ETAG_MAX];
    struct {
        const char *headers;
        const char *want;
    } cases[] = {
        {"ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n", "\"5d41402abc4b2a76b9719d911017c592\""},
        {"etag:   W/\"weak-1\"  \r\n", "W/\"weak-1\""},
        {"ETag: \"\"\r\n", "\"\""},
        {"", "(null)"},
        {"ETag: 5d41402a\r\n", "(null)"},
        {"ETag: \"a\", \"b\"\r\n", "(null)"},
        {"ETag: \"a\tb\"\r\n", "(null)"},
        {"X-ETag: \"not-this\"\r\n", "(null)"},
        {NULL, fits},
        {NULL, "(null)"},
    };
    char head[HTTP_ETAG_MAX + 64], reply[HTTP_ETAG_MAX + 256];
    int w;
    struct fx f;

    (void)state;
    /* "x...x": HTTP_ETAG_MAX - 1 bytes, kept; followed by a second tag, a
     * list, not kept, though cut at the limit it would be that tag. */
    memset(fits, 'x', sizeof fits);
    fits[0] = fits[sizeof fits - 2] = '"';
    fits[sizeof fits - 1] = '\0';
    fx_init(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *h = cases[i].headers;

        if (h == NULL) {
            w = snprintf(head, sizeof head, "ETag: %s%s\r\n", fits, i == 8 ? "" : ", \"y\"");
            assert_true(w > 0 && (size_t)w < sizeof head);
            h = head;
        }
        snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n"
                 "Connection: close\r\n\r\n{}", h);
        exchange(&f, NULL, reply);
        if (strcmp(f.etag, cases[i].want) != 0)
            fail_msg("case %zu: etag %s, want %s", i, f.etag, cases[i].want);
    }
    /* An interim response's tag is not the final one's. */
    exchange(&f, NULL, "HTTP/1.1 103 Early Hints\r\nETag: \"early\"\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assert_int_equal(f.status, 200);
    assert_string_equal(f.etag, "(null)");
    fx_cleanup(&f);
}

/* Retry-After in seconds: a longer wait than API_RETRY_AFTER_MAX is that,
 * however many digits it has (past a long's range, or cut by the client at
 * 31 bytes), never "soon". */
static void test_a_long_retry_after_is_the_longest_wait(void **state)
{
    static const struct {
        const char *value;
        long want;
    } cases[] = {
        {"5", 5},
        {"120", API_RETRY_AFTER_MAX},
        {"99999999999999999999", API_RETRY_AFTER_MAX},
        {"9999999999999999999999999999999999999999", API_RETRY_AFTER_MAX},
        {NULL, -1},
    };
    char reply[256];
    struct fx f;

    (void)state;
    fx_init(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(reply, sizeof reply, "HTTP/1.1 429 Too Many Requests\r\n%s%s%s"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n",
                 cases[i].value ? "Retry-After: " : "", cases[i].value ? cases[i].value : "",
                 cases[i].value ? "\r\n" : "");
        exchange(&f, NULL, reply);
        if (f.retry_after_s != cases[i].want)
            fail_msg("Retry-After: %s: %ld s, want %ld", cases[i].value, f.retry_after_s,
                     cases[i].want);
    }
    fx_cleanup(&f);
}

/* What the user is told of an answer that is of no use: a proxy's page or
 * a body that is not JSON says so, with its type and the service's URL; an
 * answer cut short is not an unreachable service; a redirect names where
 * it points, and that it is not followed; a problem gives its code and
 * detail. */
static void test_what_an_unusable_answer_says(void **state)
{
    static const struct {
        const char *reply;
        const char *want;       /* in the description */
        int names_url;          /* 1: so is the service's URL */
    } cases[] = {
        {"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Length: 24\r\n\r\n<html>Bad Gateway</html>",
         "unexpected answer (HTTP 502, text/html, not JSON) from ", 1},
        {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
         "{\"job_id\":", "unexpected answer (HTTP 200, application/json, not JSON) from ", 1},
        {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
         "unexpected answer (HTTP 503, not JSON) from ", 1},
        {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
         "{\"job_id\": \"01", "no complete answer from ", 1},
        {"HTTP/1.1 308 Permanent Redirect\r\nLocation: https://elsewhere.example/x\r\n"
         "Content-Length: 0\r\n\r\n",
         "redirected to https://elsewhere.example/x (HTTP 308), not followed: is ", 1},
        {"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/problem+json\r\n"
         "Content-Length: 47\r\n\r\n{\"code\":\"internal\",\"detail\":\"database is down\"}",
         "internal: database is down (HTTP 500)", 0},
    };
    struct fx f;

    (void)state;
    fx_init(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        exchange_any(&f, NULL, cases[i].reply, 1);
        if (strstr(f.why, cases[i].want) == NULL ||
            (cases[i].names_url && strstr(f.why, f.api.base) == NULL))
            fail_msg("case %zu: said '%s', want '%s'%s", i, f.why, cases[i].want,
                     cases[i].names_url ? " and the URL" : "");
    }
    fx_cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_if_none_match_and_304),
        cmocka_unit_test(test_a_malformed_tag_is_not_sent),
        cmocka_unit_test(test_which_etags_are_kept),
        cmocka_unit_test(test_a_long_retry_after_is_the_longest_wait),
        cmocka_unit_test(test_what_an_unusable_answer_says),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
