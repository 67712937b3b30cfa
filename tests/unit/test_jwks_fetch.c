/* test_jwks_fetch.c - unit tests for common/http_client.c and the key sets
 * common/jwks.c fetches with it: on an unknown kid, after the set's maximum
 * age or the IdP's Cache-Control, and what a failed fetch keeps. HTTP is
 * served by a small server thread on 127.0.0.1 in this process; keys and
 * tokens are the fixtures of tests/fixtures/jwt/ (jwks_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/jwks.h"
#include "common/jwt.h"
#include "common/pkey.h"

#include "tests/unit/capture.h"
#include "tests/unit/fixture.h"
#include "tests/unit/jwks_fx.h"

/* A minimal HTTP/1.0 server for http_get() and JWKS fetches. */

struct srv {
    int fd;
    int port;
    pthread_t thread;
    atomic_int stop;
    atomic_int requests;        /* requests read (counted before the reply) */
    pthread_mutex_t mu;
    char last[2048];            /* under mu: the last request head */
    char *jwks;                 /* under mu: body served at /jwks (owns) */
    char cache_control[512];    /* under mu: /jwks' Cache-Control value, "" for none
                                 * (may hold "\r\nName: value" to send more lines) */
};

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;     /* the client gave up (as it should for /big) */
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, const char *status, const char *extra, const char *body, size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %s\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, extra, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void serve_one(struct srv *s, int fd)
{
    char req[2048];
    size_t n = 0;
    char path[256] = "";

    while (n < sizeof req - 1) {
        ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    req[n] = '\0';
    sscanf(req, "GET %255s ", path);
    pthread_mutex_lock(&s->mu);
    snprintf(s->last, sizeof s->last, "%s", req);
    pthread_mutex_unlock(&s->mu);
    /* Counted before the reply: a client holding the reply sees the count. */
    atomic_fetch_add(&s->requests, 1);

    if (strcmp(path, "/jwks") == 0) {
        char extra[600] = "";

        pthread_mutex_lock(&s->mu);
        if (s->cache_control[0] != '\0')
            snprintf(extra, sizeof extra, "Cache-Control: %s\r\n", s->cache_control);
        reply(fd, "200 OK", extra, s->jwks, strlen(s->jwks));
        pthread_mutex_unlock(&s->mu);
    } else if (strcmp(path, "/redirect") == 0) {
        reply(fd, "302 Found", "Location: /jwks\r\n", "", 0);
    } else if (strcmp(path, "/big") == 0 || strcmp(path, "/big-nolength") == 0) {
        size_t big = JWKS_MAX_BYTES + 1;
        char *body = malloc(big);
        if (body != NULL) {
            memset(body, ' ', big);
            if (path[4] == '\0') {
                reply(fd, "200 OK", "", body, big);
            } else {
                /* No Content-Length: only the write callback can stop it. */
                static const char head[] = "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n";
                send_all(fd, head, sizeof head - 1);
                send_all(fd, body, big);
            }
            free(body);
        }
    } else if (strcmp(path, "/exact") == 0) {
        reply(fd, "200 OK", "", "0123456789", 10);
    } else if (strcmp(path, "/slow") == 0) {
        usleep(600 * 1000);
    } else if (strcmp(path, "/garbage") == 0) {
        send_all(fd, "hello\r\n\r\n", 9);
    } else {
        reply(fd, "404 Not Found", "", "{}", 2);
    }
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;

    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int c;

        if (poll(&p, 1, 50) <= 0)
            continue;
        c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(s, c);
        close(c);
    }
    return NULL;
}

static struct srv *srv_start(const char *jwks_fixture)
{
    struct srv *s = calloc(1, sizeof *s);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;

    assert_non_null(s);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    s->jwks = fixture_read_trimmed(FIXTURES, jwks_fixture, NULL);
    pthread_mutex_init(&s->mu, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
    return s;
}

static void srv_set_jwks(struct srv *s, const char *name)
{
    char *body = fixture_read_trimmed(FIXTURES, name, NULL);

    pthread_mutex_lock(&s->mu);
    free(s->jwks);
    s->jwks = body;
    pthread_mutex_unlock(&s->mu);
}

static void srv_set_cache_control(struct srv *s, const char *value)
{
    pthread_mutex_lock(&s->mu);
    snprintf(s->cache_control, sizeof s->cache_control, "%s", value);
    pthread_mutex_unlock(&s->mu);
}

static void srv_url(const struct srv *s, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
}

/* The request count once it has not moved for 100 ms (at most 3 s). */
static int settled_requests(struct srv *s)
{
    int last = atomic_load(&s->requests);

    for (int i = 0; i < 60; i++) {
        usleep(50000);
        int now = atomic_load(&s->requests);
        if (now == last && i > 0)
            return now;
        last = now;
    }
    return last;
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s->jwks);
    free(s);
}

/* common/http_client.c, and sets fetched with it */

/* http_get's one named header: absent, repeated, a mere prefix, too long. */
static void test_http_get_header(struct srv *s)
{
    struct http_header h = {.name = "cache-control"};
    char url[128], *body, big[300];
    size_t len;
    long status;
    struct err e;

    srv_url(s, "/jwks", url, sizeof url);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, &h, &e), ERR_OK);
    free(body);
    assert_int_equal(h.found, 0);
    assert_string_equal(h.value, "");
    /* Several lines are one list; names are case-insensitive; blanks trimmed. */
    srv_set_cache_control(s, "max-age=5\r\ncache-control:  s-maxage=7 ");
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, &h, &e), ERR_OK);
    free(body);
    assert_int_equal(h.found, 1);
    assert_int_equal(h.too_long, 0);
    assert_string_equal(h.value, "max-age=5, s-maxage=7");
    h.name = "Cache";
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, &h, &e), ERR_OK);
    free(body);
    assert_int_equal(h.found, 0);
    /* Longer than the buffer: flagged, and no truncated value to misread. */
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    srv_set_cache_control(s, big);
    h.name = "Cache-Control";
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, &h, &e), ERR_OK);
    free(body);
    assert_int_equal(h.found, 1);
    assert_int_equal(h.too_long, 1);
    assert_string_equal(h.value, "");
    /* A second line that no longer fits beside the first (HTTP_HEADER_MAX 256). */
    big[HTTP_HEADER_MAX - 2] = '\0';
    snprintf(big + HTTP_HEADER_MAX - 2, sizeof big - (HTTP_HEADER_MAX - 2), "\r\nCache-Control: b");
    srv_set_cache_control(s, big);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, &h, &e), ERR_OK);
    free(body);
    assert_int_equal(h.too_long, 1);
    assert_string_equal(h.value, "");
    srv_set_cache_control(s, "");
}

static void test_http_get(void **state)
{
    struct srv *s = srv_start("jwks.json");
    char url[128], *body;
    size_t len;
    long status;
    struct err e;
    int before;
    (void)state;

    srv_url(s, "/jwks", url, sizeof url);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e), ERR_OK);
    assert_int_equal(status, 200);
    assert_int_equal(len, strlen(body));
    assert_non_null(strstr(body, "\"rsa-1\""));
    free(body);
    pthread_mutex_lock(&s->mu);
    assert_non_null(strstr(s->last, "User-Agent: " HTTP_USER_AGENT "\r\n"));
    pthread_mutex_unlock(&s->mu);

    /* A body of exactly max_bytes is fine; one byte less is not. */
    srv_url(s, "/exact", url, sizeof url);
    assert_int_equal(http_get(url, 2000, 10, &body, &len, &status, NULL, &e), ERR_OK);
    assert_int_equal(len, 10);
    assert_string_equal(body, "0123456789");
    free(body);
    assert_int_equal(http_get(url, 2000, 9, &body, &len, &status, NULL, &e), ERR_PROTOCOL);
    assert_null(body);

    /* Too large, announced or not. */
    srv_url(s, "/big", url, sizeof url);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e),
                     ERR_PROTOCOL);
    assert_null(body);
    assert_int_equal(len, 0);
    assert_int_equal(status, 0);
    srv_url(s, "/big-nolength", url, sizeof url);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e),
                     ERR_PROTOCOL);
    assert_null(body);

    /* Redirects are returned, not followed. The server thread may still be
     * counting the aborted transfer above: wait until its count settles. */
    before = settled_requests(s);
    srv_url(s, "/redirect", url, sizeof url);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e), ERR_OK);
    assert_int_equal(status, 302);
    assert_int_equal(len, 0);
    free(body);
    assert_int_equal(atomic_load(&s->requests), before + 1);

    srv_url(s, "/missing", url, sizeof url);
    assert_int_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e), ERR_OK);
    assert_int_equal(status, 404);
    free(body);

    test_http_get_header(s);

    srv_url(s, "/slow", url, sizeof url);
    assert_int_equal(http_get(url, 200, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e),
                     ERR_TIMEOUT);
    assert_null(body);

    srv_url(s, "/garbage", url, sizeof url);
    assert_int_not_equal(http_get(url, 2000, JWKS_MAX_BYTES, &body, &len, &status, NULL, &e),
                         ERR_OK);
    assert_null(body);

    /* Only http and https. */
    assert_int_equal(http_get("file:///etc/passwd", 2000, 1024, &body, &len, &status, NULL, &e),
                     ERR_PROTOCOL);
    assert_null(body);
    assert_int_equal(http_get("ftp://127.0.0.1/x", 2000, 1024, &body, &len, &status, NULL, &e),
                     ERR_PROTOCOL);
    assert_int_equal(http_get("gopher://127.0.0.1/x", 2000, 1024, &body, &len, &status, NULL, &e),
                     ERR_PROTOCOL);
    /* Nothing listening. */
    srv_stop(s);
    assert_int_equal(http_get("http://127.0.0.1:1/", 2000, 1024, &body, &len, &status, NULL, &e),
                     ERR_IO);
    assert_null(strstr(e.msg, "http://"));
    assert_int_equal(http_get("http://127.0.0.1/", 0, 1024, &body, &len, &status, NULL, &e),
                     ERR_INTERNAL);
}

static void test_fetch_on_unknown_kid(void **state)
{
    struct srv *s = srv_start("jwks_rsa.json");
    char url[128];
    struct jwks *k;
    struct capture cap;
    char *out;
    int rc;
    (void)state;

    srv_url(s, "/jwks", url, sizeof url);
    k = jwks_new(url, 60, 0);
    assert_non_null(k);
    assert_int_equal(jwks_key_count(k), 0);
    assert_int_equal(atomic_load(&s->requests), 0);     /* nothing fetched yet */

    /* The first miss fetches. */
    capture_begin(&cap);
    rc = verify_fixture(k, "rs256.jwt");
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 1);
    assert_non_null(strstr(out, "\"event\":\"jwks_fetched\""));
    free(out);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 1);

    /* The IdP rotates in an EC key; within min_refresh_s no refetch happens. */
    srv_set_jwks(s, "jwks.json");
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(verify_fixture(k, "rs256_unknown_kid.jwt"), ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(atomic_load(&s->requests), 1);
    /* An explicit refresh picks it up. */
    capture_begin(&cap);
    rc = jwks_refresh(k, NULL);
    free(capture_end(&cap));
    assert_int_equal(rc, ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 2);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_OK);
    jwks_free(k);

    /* min_refresh_s 0: each miss refetches, once. */
    k = jwks_new(url, 0, 0);
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(verify_fixture(k, "rs256_unknown_kid.jwt"), ERR_TOKEN_UNKNOWN_KID);
    assert_int_equal(verify_fixture(k, "rs256_unknown_kid.jwt"), ERR_TOKEN_UNKNOWN_KID);
    free(capture_end(&cap));
    assert_int_equal(atomic_load(&s->requests), 5);
    /* Bad alg: no fetch. */
    assert_int_equal(verify_fixture(k, "hs256_confusion.jwt"), ERR_TOKEN_ALG_NOT_ALLOWED);
    assert_int_equal(atomic_load(&s->requests), 5);
    jwks_free(k);
    srv_stop(s);
}

static void test_fetch_failures(void **state)
{
    struct srv *s = srv_start("jwks.json");
    char url[128], *out, *tok = fixture_read_trimmed(FIXTURES, "rs256.jwt", NULL);
    struct jwks *k;
    struct capture cap;
    struct err e;
    int rc;
    (void)state;

    /* 404: logged once per attempt, never with the token. */
    srv_url(s, "/missing", url, sizeof url);
    k = jwks_new(url, 60, 0);
    capture_begin(&cap);
    rc = verify_tok(k, tok);
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_TOKEN_UNKNOWN_KID);
    assert_non_null(strstr(out, "\"event\":\"jwks_fetch_failed\""));
    assert_non_null(strstr(out, "\"http_status\":404"));
    assert_null(strstr(strstr(out, "jwks_fetch_failed") + 1, "jwks_fetch_failed"));
    {
        char head[20];
        memcpy(head, tok, 19);
        head[19] = '\0';
        assert_null(strstr(out, head));
        assert_null(strstr(out, strrchr(tok, '.') + 1));
    }
    free(out);
    /* Within min_refresh_s: no second attempt, no second line. */
    capture_begin(&cap);
    rc = verify_tok(k, tok);
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_TOKEN_UNKNOWN_KID);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(atomic_load(&s->requests), 1);
    jwks_free(k);

    /* Too large, exactly at the limit and not a JWKS, and a redirect (not
     * followed): each a failure. */
    for (size_t i = 0; i < 3; i++) {
        static const char *const paths[] = {"/big", "/exact", "/redirect"};
        srv_url(s, paths[i], url, sizeof url);
        k = jwks_new(url, 60, 0);
        capture_begin(&cap);
        rc = jwks_refresh(k, &e);
        free(capture_end(&cap));
        assert_int_equal(rc, ERR_PROTOCOL);
        jwks_free(k);
    }

    /* After a failed refresh the previous keys stay. */
    srv_url(s, "/jwks", url, sizeof url);
    k = jwks_new(url, 0, 0);
    capture_begin(&cap);
    assert_int_equal(jwks_refresh(k, &e), ERR_OK);
    free(capture_end(&cap));
    srv_set_jwks(s, "jwks_unusable.json");
    capture_begin(&cap);
    rc = jwks_refresh(k, &e);
    free(capture_end(&cap));
    assert_int_equal(rc, ERR_PROTOCOL);
    assert_int_equal(jwks_key_count(k), 2);
    assert_int_equal(verify_tok(k, tok), ERR_OK);
    jwks_free(k);

    free(tok);
    srv_stop(s);
}

/* The JWKS document of jwks.json's EC key alone (owns; free()). */
static char *ec_only_jwks(void)
{
    cJSON *keys = cJSON_CreateArray(), *doc = cJSON_CreateObject();
    char *json;

    cJSON_AddItemToArray(keys, first_jwk("jwks.json", 1));
    cJSON_AddItemToObject(doc, "keys", keys);
    json = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return json;
}

static void srv_set_body(struct srv *s, const char *body)
{
    pthread_mutex_lock(&s->mu);
    free(s->jwks);
    s->jwks = strdup(body);
    pthread_mutex_unlock(&s->mu);
}

/* A set past max_age_s is refetched by the next verification: a key the IdP
 * withdrew stops verifying then (before, the set was only replaced on a
 * miss, and a withdrawn key was trusted until a restart). A failed refetch
 * keeps the old set, and is retried only after min_refresh_s. */
static void test_fetch_after_max_age(void **state)
{
    struct srv *s = srv_start("jwks.json");
    char url[128], *ec_only = ec_only_jwks(), *out;
    struct jwks *k;
    struct capture cap;
    int rc;
    (void)state;

    srv_url(s, "/jwks", url, sizeof url);
    k = jwks_new(url, 0, 1);
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    free(capture_end(&cap));
    assert_int_equal(atomic_load(&s->requests), 1);
    /* The IdP withdraws rsa-1: trusted until the set is max_age_s old. */
    srv_set_body(s, ec_only);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 1);
    usleep(1100 * 1000);
    capture_begin(&cap);
    rc = verify_fixture(k, "rs256.jwt");
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_TOKEN_UNKNOWN_KID);
    assert_non_null(strstr(out, "\"event\":\"jwks_fetched\""));
    assert_non_null(strstr(out, "\"reason\":\"max_age\""));
    free(out);
    /* The age refetch, then the miss' own (min_refresh_s 0). */
    assert_int_equal(atomic_load(&s->requests), 3);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_OK);
    jwks_free(k);

    /* The IdP answers nonsense once the set is old: the set is kept, the
     * failure logged, and not retried within min_refresh_s. */
    srv_set_jwks(s, "jwks.json");
    k = jwks_new(url, 1, 1);
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_OK);
    free(capture_end(&cap));
    srv_set_jwks(s, "jwks_unusable.json");
    usleep(1100 * 1000);
    capture_begin(&cap);
    rc = verify_fixture(k, "es256.jwt");
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_OK);
    assert_non_null(strstr(out, "\"event\":\"jwks_fetch_failed\""));
    assert_non_null(strstr(out, "\"reason\":\"max_age\""));
    free(out);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 5);
    jwks_free(k);

    /* A static set never ages. */
    k = jwks_new(NULL, 0, 1);
    assert_int_equal(load(k, "jwks.json"), ERR_OK);
    usleep(1100 * 1000);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    jwks_free(k);
    free(ec_only);
    srv_stop(s);
}

/* Fetches k's first set (min_refresh_s must allow it) with Cache-Control cc
 * and checks the effective max age the jwks_fetched event logs. */
static void fetch_with_cache_control(struct srv *s, struct jwks *k, const char *cc,
                                     const char *want)
{
    struct capture cap;
    char *out;

    srv_set_cache_control(s, cc);
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    out = capture_end(&cap);
    assert_non_null(strstr(out, "\"event\":\"jwks_fetched\""));
    if (strstr(out, want) == NULL)
        fail_msg("Cache-Control \"%s\": no %s in %s", cc, want, out);
    free(out);
}

/* The IdP's Cache-Control max-age shortens the set's maximum age (before,
 * the header was not even read and every set lived max_age_s): capped by
 * max_age_s, floored by min_refresh_s; malformed values are ignored. */
static void test_fetch_honours_cache_control(void **state)
{
    static const struct {
        const char *cc, *want;
    } cases[] = {
        {"public, max-age=3600", "\"max_age_s\":600"},         /* capped */
        {"max-age=5, S-MAXAGE=3", "\"max_age_s\":3"},         /* the smaller */
        {"max-age=0", "\"max_age_s\":1"},                     /* floored */
        {"no-cache, max-age=300", "\"max_age_s\":1"},
        {"no-store", "\"max_age_s\":1"},
        {"max-age=99999999999999999999999", "\"max_age_s\":600"},
        {"max-age=2x, s-maxage=-1, max-age=, max-age=+1, max-age 1", "\"max_age_s\":600"},
        {"max-age=\"60\"", "\"max_age_s\":60"},                 /* quoted: RFC 9111 */
        {"max-age=\"6\"0, max-age=\"\", max-age=\"", "\"max_age_s\":600"},
        {"", "\"max_age_s\":600"},
    };
    struct srv *s = srv_start("jwks.json");
    char url[128], *ec_only = ec_only_jwks(), *out;
    struct jwks *k;
    struct capture cap;
    int rc, fetches;
    (void)state;

    srv_url(s, "/jwks", url, sizeof url);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        k = jwks_new(url, 1, 600);
        fetch_with_cache_control(s, k, cases[i].cc, cases[i].want);
        jwks_free(k);
    }

    /* max-age=2 under max_age_s 600: the withdrawn key stops after ~2 s. */
    k = jwks_new(url, 1, 600);
    fetch_with_cache_control(s, k, "max-age=2", "\"max_age_s\":2");
    fetches = atomic_load(&s->requests);
    srv_set_body(s, ec_only);
    srv_set_cache_control(s, "");
    usleep(1100 * 1000);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    assert_int_equal(atomic_load(&s->requests), fetches);
    usleep(1000 * 1000);
    capture_begin(&cap);
    rc = verify_fixture(k, "rs256.jwt");
    out = capture_end(&cap);
    assert_int_equal(rc, ERR_TOKEN_UNKNOWN_KID);
    assert_non_null(strstr(out, "\"reason\":\"max_age\""));
    /* The new set came without the header: max_age_s again. */
    assert_non_null(strstr(out, "\"max_age_s\":600"));
    free(out);
    jwks_free(k);

    /* A max-age over max_age_s 1 is capped: refetched after 1 s. */
    srv_set_jwks(s, "jwks.json");
    k = jwks_new(url, 0, 1);
    fetch_with_cache_control(s, k, "max-age=3600", "\"max_age_s\":1");
    srv_set_body(s, ec_only);
    usleep(1100 * 1000);
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_TOKEN_UNKNOWN_KID);
    free(capture_end(&cap));
    jwks_free(k);

    /* Sets that never age (max_age_s 0) do not start to because of a header. */
    srv_set_jwks(s, "jwks.json");
    k = jwks_new(url, 0, 0);
    srv_set_cache_control(s, "max-age=0");
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    out = capture_end(&cap);
    assert_null(strstr(out, "max_age_s"));
    free(out);
    srv_set_body(s, ec_only);
    usleep(50 * 1000);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    jwks_free(k);
    free(ec_only);
    srv_stop(s);
}

/* A set whose only key has no kid: a token naming a kid is a miss and
 * refetches, so a rotation to kid'ed keys is picked up (before, the kid-less
 * key answered for every kid, nothing was ever refetched, and the new keys'
 * tokens failed until a restart). */
static void test_kidless_set_refetches_on_a_kid(void **state)
{
    struct srv *s = srv_start("jwks_rsa_nokid.json");
    char url[128];
    struct jwks *k;
    struct capture cap;
    (void)state;

    srv_url(s, "/jwks", url, sizeof url);
    k = jwks_new(url, 0, 0);
    capture_begin(&cap);
    assert_int_equal(verify_fixture(k, "rs256_nokid.jwt"), ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 1);
    /* The IdP rotates to rsa-1 and ec-1, both with kids. */
    srv_set_jwks(s, "jwks.json");
    assert_int_equal(verify_fixture(k, "es256.jwt"), ERR_OK);
    assert_int_equal(atomic_load(&s->requests), 2);
    assert_int_equal(verify_fixture(k, "rs256.jwt"), ERR_OK);
    /* Without kid, two keys: which one is unknown. */
    assert_int_equal(verify_fixture(k, "rs256_nokid.jwt"), ERR_TOKEN_UNKNOWN_KID);
    free(capture_end(&cap));
    jwks_free(k);
    srv_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_get),
        cmocka_unit_test(test_fetch_on_unknown_kid),
        cmocka_unit_test(test_fetch_failures),
        cmocka_unit_test(test_fetch_after_max_age),
        cmocka_unit_test(test_fetch_honours_cache_control),
        cmocka_unit_test(test_kidless_set_refetches_on_a_kid),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
