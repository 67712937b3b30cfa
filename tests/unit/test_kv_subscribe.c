/* test_kv_subscribe.c - kv_async_subscribe (common/kv_async.c) against a
 * loopback peer speaking RESP: the subscription is sent once connected,
 * messages and confirmations reach the callback, and a new connection
 * subscribes again by itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/kv.h"
#include "common/kv_async.h"
#include "common/loop.h"
#include "tests/unit/loop_until.h"
#include "tests/unit/loopback_peer.h"

#define CHANNEL "ci:test"
#define WAIT_MS 5000

#define CONFIRM "*3\r\n$9\r\nsubscribe\r\n$7\r\n" CHANNEL "\r\n:1\r\n"

struct fx {
    struct loopback_peer redis;
    struct loop *loop;
    struct loop_until *lu;
    struct kv_async *kv;
    int confirmations;
    int messages;
    char last[64];
};

static void on_message(void *arg, const char *payload, size_t len)
{
    struct fx *f = arg;

    if (payload == NULL) {
        f->confirmations++;
        return;
    }
    f->messages++;
    snprintf(f->last, sizeof f->last, "%.*s", (int)len, payload);
}

static int asked(void *arg)
{
    struct fx *f = arg;

    return loopback_peer_take(&f->redis) && strstr(f->redis.head, "SUBSCRIBE") != NULL;
}

static int confirmed_once(void *arg) { return ((struct fx *)arg)->confirmations == 1; }
static int confirmed_twice(void *arg) { return ((struct fx *)arg)->confirmations == 2; }
static int heard(void *arg) { return ((struct fx *)arg)->messages == 1; }

static void test_subscribes_and_subscribes_again(void **state)
{
    struct fx f;
    struct kv_url url;
    struct err e;
    (void)state;

    memset(&f, 0, sizeof f);
    loopback_peer_start(&f.redis);
    f.loop = loop_new(&e);
    assert_non_null(f.loop);
    f.lu = loop_until_new(f.loop);
    memset(&url, 0, sizeof url);
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    url.port = f.redis.port;
    f.kv = kv_async_new(f.loop, &url, "test-sub", NULL, NULL, &e);
    assert_non_null(f.kv);

    /* Asked before the connection is up: sent once it is. */
    assert_int_equal(kv_async_subscribe(f.kv, CHANNEL, on_message, &f, &e), ERR_OK);
    assert_true(loop_until_run(f.lu, asked, &f, WAIT_MS));
    assert_non_null(strstr(f.redis.head, CHANNEL));
    loopback_peer_say(&f.redis, CONFIRM);
    assert_true(loop_until_run(f.lu, confirmed_once, &f, WAIT_MS));
    loopback_peer_say(&f.redis, "*3\r\n$7\r\nmessage\r\n$7\r\n" CHANNEL "\r\n$5\r\nhello\r\n");
    assert_true(loop_until_run(f.lu, heard, &f, WAIT_MS));
    assert_string_equal(f.last, "hello");

    /* One subscription a connection; a channel name must fit. */
    assert_int_equal(kv_async_subscribe(f.kv, "other", on_message, &f, &e), ERR_INTERNAL);

    /* The connection drops: the next one subscribes again, unasked, and
     * its confirmation tells the caller to catch up. */
    loopback_peer_drop(&f.redis);
    assert_true(loop_until_run(f.lu, asked, &f, WAIT_MS));
    assert_non_null(strstr(f.redis.head, CHANNEL));
    loopback_peer_say(&f.redis, CONFIRM);
    assert_true(loop_until_run(f.lu, confirmed_twice, &f, WAIT_MS));
    assert_int_equal(f.messages, 1);

    kv_async_free(f.kv);
    loop_until_free(f.lu);
    loop_free(f.loop);
    loopback_peer_stop(&f.redis);
}

static void test_refuses_a_channel_that_does_not_fit(void **state)
{
    struct loopback_peer p;
    struct loop *loop;
    struct kv_async *kv;
    struct kv_url url;
    struct err e;
    char longname[128];
    (void)state;

    loopback_peer_start(&p);
    loop = loop_new(&e);
    assert_non_null(loop);
    memset(&url, 0, sizeof url);
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    url.port = p.port;
    kv = kv_async_new(loop, &url, "test-sub", NULL, NULL, &e);
    assert_non_null(kv);
    memset(longname, 'c', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(kv_async_subscribe(kv, longname, on_message, NULL, &e), ERR_INTERNAL);
    assert_int_equal(kv_async_subscribe(kv, "", on_message, NULL, &e), ERR_INTERNAL);
    kv_async_free(kv);
    loop_free(loop);
    loopback_peer_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribes_and_subscribes_again),
        cmocka_unit_test(test_refuses_a_channel_that_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
