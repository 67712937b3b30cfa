/* test_llm.c - llm_cancel (common/llm.c) on a real loop, against a model
 * server that answers only when told to (tests/unit/loopback_peer.h): a
 * cancelled call's callback never runs, its transfer is aborted, nothing
 * leaks (ASan), it says whether a request was out (what the vendor may
 * bill) and hands over the usage of earlier attempts, and a cancelled
 * half-open trial lets the next call be the trial. Also which 200 replies
 * are retried: a malformed body is, a complete one without text is not.
 * Loopback only; every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"
#include "common/llm.h"
#include "common/loop.h"
#include "tests/unit/loop_until.h"
#include "tests/unit/loopback_peer.h"

#define WAIT_MS 5000                /* the longest a step may take */
#define QUIET_MS 150                /* how long nothing may happen after a cancel */
#define COOLDOWN_MS 50

struct fx {
    struct loop *loop;
    struct config cfg;
    struct llm *llm;
    struct loopback_peer peer;
    struct loop_until *lu;          /* runs the loop: loop_until.h */
    int called;                     /* callbacks run */
    struct llm_result last;
};

static void on_done(void *arg, struct llm_result *res)
{
    struct fx *f = arg;

    f->called++;
    free(f->last.text);
    f->last = *res;
}

static int request_read(void *f) { return loopback_peer_take(&((struct fx *)f)->peer); }
static int peer_closed(void *f) { return loopback_peer_closed(&((struct fx *)f)->peer); }
static int called(void *f) { return ((struct fx *)f)->called > 0; }

static void fx_init(struct fx *f, long breaker_threshold, long max_attempts)
{
    struct err e;

    memset(f, 0, sizeof *f);
    loopback_peer_start(&f->peer);
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    f->lu = loop_until_new(f->loop);
    snprintf(f->cfg.llm_provider, sizeof f->cfg.llm_provider, "openai");
    snprintf(f->cfg.llm_base_url, sizeof f->cfg.llm_base_url, "http://127.0.0.1:%d",
             f->peer.port);
    snprintf(f->cfg.llm_model, sizeof f->cfg.llm_model, "test-model");
    f->cfg.llm_timeout_ms = 30000;
    f->cfg.llm_connect_timeout_ms = 5000;
    f->cfg.llm_max_attempts = max_attempts;
    f->cfg.breaker_threshold = breaker_threshold;
    f->cfg.breaker_cooldown_ms = COOLDOWN_MS;
    f->llm = llm_new(f->loop, &f->cfg, &e);
    if (f->llm == NULL)
        fail_msg("llm_new: %s", e.msg);
}

static void fx_cleanup(struct fx *f)
{
    llm_free(f->llm);
    loop_until_free(f->lu);
    loop_free(f->loop);
    loopback_peer_stop(&f->peer);
    free(f->last.text);
}

static struct llm_call *call(struct fx *f)
{
    struct err e;
    struct llm_call *c = llm_call(f->llm, "system", "user", 16, on_done, f, &e);

    if (c == NULL)
        fail_msg("llm_call: %s", e.msg);
    return c;
}

/* Cancelled before its first send (still waiting on the loop): no callback,
 * no connection, nothing in flight. */
static void test_cancel_before_send(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, 1000, 1);
    assert_int_equal(llm_cancel(call(&f), NULL), 0);
    assert_int_equal(llm_inflight(f.llm), 0);
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    assert_false(loopback_peer_pending(&f.peer));
    fx_cleanup(&f);
}

/* Cancelled while its request is out: the transfer is aborted (the server
 * sees the connection closed) and the callback never runs. */
static void test_cancel_during_transfer(void **state)
{
    struct fx f;
    struct llm_call *c;

    (void)state;
    fx_init(&f, 1000, 1);
    c = call(&f);
    assert_true(loop_until_run(f.lu, request_read, &f, WAIT_MS));
    assert_int_equal(llm_inflight(f.llm), 1);
    assert_int_equal(llm_cancel(c, NULL), 1);
    assert_int_equal(llm_inflight(f.llm), 0);
    assert_true(loop_until_run(f.lu, peer_closed, &f, WAIT_MS));
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    fx_cleanup(&f);
}

/* Cancelled while waiting for a retry (the server answered 429 with
 * Retry-After: 30): no request is out, so llm_cancel says 0; the retry never
 * goes out and the callback never runs. */
static void test_cancel_while_waiting_for_a_retry(void **state)
{
    struct fx f;
    struct llm_call *c;

    (void)state;
    fx_init(&f, 1000, 2);
    c = call(&f);
    assert_true(loop_until_run(f.lu, request_read, &f, WAIT_MS));
    loopback_peer_say(&f.peer, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\n"
                               "Content-Length: 0\r\n\r\n");
    /* The answer is read and the retry's timer set: the connection is idle. */
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    assert_int_equal(llm_inflight(f.llm), 1);
    assert_int_equal(llm_cancel(c, NULL), 0);
    assert_int_equal(llm_inflight(f.llm), 0);
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    fx_cleanup(&f);
}

/* The breaker is half-open and the trial call is cancelled: the next call
 * goes out as the trial instead of failing with circuit_open. */
static void test_cancelled_trial_frees_the_trial(void **state)
{
    struct fx f;
    struct llm_call *trial;

    (void)state;
    fx_init(&f, 1, 1);
    /* One failure opens the circuit: the server drops the first request. */
    call(&f);
    assert_true(loop_until_run(f.lu, request_read, &f, WAIT_MS));
    loopback_peer_drop(&f.peer);
    assert_true(loop_until_run(f.lu, called, &f, WAIT_MS));
    assert_int_equal(f.last.ok, 0);
    assert_string_not_equal(f.last.reason, "circuit_open");
    /* After the cooldown: one trial goes out, a second call is refused. */
    loop_until_run(f.lu, NULL, NULL, COOLDOWN_MS * 2);
    f.called = 0;
    trial = call(&f);
    call(&f);
    assert_true(loop_until_run(f.lu, called, &f, WAIT_MS));
    assert_int_equal(f.called, 1);
    assert_string_equal(f.last.reason, "circuit_open");
    assert_int_equal(llm_inflight(f.llm), 1);
    assert_int_equal(llm_cancel(trial, NULL), 1);
    assert_int_equal(llm_inflight(f.llm), 0);
    /* The next call is the trial: it is sent, and waits for its answer. */
    f.called = 0;
    call(&f);
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    assert_int_equal(llm_inflight(f.llm), 1);
    fx_cleanup(&f);     /* llm_free cancels it */
}

/* The server answers the request it read with a 200 carrying body, and
 * closes the connection, so that a next attempt comes on a new one. */
static void server_says_200(struct fx *f, const char *body)
{
    char reply[1024];

    snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    loopback_peer_say(&f->peer, reply);
    loopback_peer_drop(&f->peer);
}

/* A complete, well-formed chat completion that carries no text: the model
 * refused (OpenAI "refusal", content null). Billed: usage is reported. */
static const char refusal_body[] =
    "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":10}}";

/* docs/pipeline.md: 429/529/5xx/timeouts are retried. A 200 reply that is
 * a complete answer without text is not transient: it ends the call at
 * once, upstream_refused, charged once. Before, it was retried as
 * upstream_malformed up to CODEINSIGHT_LLM_MAX_ATTEMPTS (3 requests, 3000
 * input tokens charged). */
static void test_complete_reply_without_text_is_not_resent(void **state)
{
    struct fx f;
    int requests = 0;

    (void)state;
    fx_init(&f, 1000, 3);
    call(&f);
    while (!f.called && loop_until_run(f.lu, request_read, &f, WAIT_MS)) {
        requests++;
        server_says_200(&f, refusal_body);
        loop_until_run(f.lu, called, &f, 200);
    }
    assert_true(loop_until_run(f.lu, called, &f, WAIT_MS));
    assert_int_equal(requests, 1);
    assert_int_equal(f.last.ok, 0);
    assert_string_equal(f.last.reason, "upstream_refused");
    assert_int_equal(f.last.attempts, 1);
    assert_int_equal(f.last.usage.input_tokens, 1000);
    assert_int_equal(f.last.usage.output_tokens, 10);
    fx_cleanup(&f);
}

/* A 200 whose body is not a completion (no choices) is still retried, and
 * the usage it reports is kept: cancelled while waiting for the retry, the
 * call hands it to the caller, who charges it. Before, llm_cancel freed it
 * with the call. */
static void test_cancel_hands_over_earlier_usage(void **state)
{
    struct fx f;
    struct llm_call *c;
    struct llm_usage u = {0};

    (void)state;
    fx_init(&f, 1000, 2);
    c = call(&f);
    assert_true(loop_until_run(f.lu, request_read, &f, WAIT_MS));
    server_says_200(&f, "{\"usage\":{\"prompt_tokens\":700,\"completion_tokens\":5}}");
    /* Read as malformed; the retry waits 250 ms or more. Were this machine
     * slow enough for it to go out first, the usage is handed over all the
     * same: that is what is checked. */
    loop_until_run(f.lu, NULL, NULL, 100);
    assert_int_equal(f.called, 0);
    assert_int_equal(llm_inflight(f.llm), 1);
    llm_cancel(c, &u);
    assert_int_equal(u.input_tokens, 700);
    assert_int_equal(u.output_tokens, 5);
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    fx_cleanup(&f);
}

/* CODEINSIGHT_LLM_PRICES is checked when the model client is set up: a table
 * that llm_cost could not read would otherwise cost nothing, silently. */
static void test_prices_check(void **state)
{
    static const char *const good[] = {
        "", "claude-sonnet-4-5=3,15,3.75,0.30;anthropic/claude-sonnet-4.5=3,15,3.75,0.30",
        "m=1,2", "m=0,0;", "local/model:7b=0.5,1.5,0,0"};
    static const char *const bad[] = {
        "garbage", "=1,2", "m=", "m=a,b", "m=1", "m=1,2,3", "m=1,2,3,4,5", "m=-1,2",
        "m=1,,2", "m=1,2,", "m=1;2", "m=1,2;;n=1,2", "m=inf,1", "m=1 ,2", "m=1e99,1"};
    struct err e;
    (void)state;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        err_clear(&e);
        assert_int_equal(llm_prices_check(good[i], &e), ERR_OK);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        if (llm_prices_check(bad[i], &e) != ERR_CONFIG)
            fail_msg("accepted CODEINSIGHT_LLM_PRICES=\"%s\"", bad[i]);
        assert_non_null(strstr(e.msg, "CODEINSIGHT_LLM_PRICES"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prices_check),
        cmocka_unit_test(test_cancel_before_send),
        cmocka_unit_test(test_cancel_during_transfer),
        cmocka_unit_test(test_cancel_while_waiting_for_a_retry),
        cmocka_unit_test(test_cancelled_trial_frees_the_trial),
        cmocka_unit_test(test_complete_reply_without_text_is_not_resent),
        cmocka_unit_test(test_cancel_hands_over_earlier_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
