/* test_model_ask.c - cancelling a model question (worker/model_ask.c) on a
 * real loop: the model and Redis are loopback peers that answer only when
 * told to (tests/unit/loopback_peer.h), so the ask is caught with its model
 * call out, or with its prompt-cache lookup out. A cancelled ask never calls
 * back, aborts its model call, and is freed exactly once (ASan): at once, or
 * when the cache reply it cannot withdraw arrives. What the ask spends is
 * counted as it goes (model_question.spent): each answered call's tokens and
 * usage, a call aborted while out by its prompt's characters / 4 (in tokens
 * only), the usage of a cancelled call's earlier billed attempts, a cache
 * lookup nothing. */
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
#include "common/kv.h"
#include "common/kv_async.h"
#include "common/llm.h"
#include "common/loop.h"
#include "tests/unit/loop_until.h"
#include "tests/unit/loopback_peer.h"
#include "worker/cancel.h"
#include "worker/model_ask.h"
#include "worker/prompt.h"

#define WAIT_MS 5000                /* the longest a step may take */
#define QUIET_MS 150                /* how long nothing may happen after a cancel */

struct fx {
    struct loop *loop;
    struct config cfg;
    struct loopback_peer model, redis;
    struct llm *llm;
    struct prompt_set *prompts;
    struct kv_async *kv;
    struct model_ctx ctx;
    struct loop_until *lu;          /* runs the loop: loop_until.h */
    struct cancel ask;              /* the ask's, as a task holds it */
    struct model_spent spent;       /* the question's counters */
    int called;                     /* answers received */
    struct model_answer last;
};

static void on_answer(void *arg, struct model_answer *a)
{
    struct fx *f = arg;

    f->called++;
    model_answer_cleanup(&f->last);
    f->last = *a;
}

static int model_asked(void *f) { return loopback_peer_take(&((struct fx *)f)->model); }
static int model_dropped(void *f) { return loopback_peer_closed(&((struct fx *)f)->model); }
static int cache_asked(void *f) { return loopback_peer_take(&((struct fx *)f)->redis); }
static int kv_up(void *f) { return kv_async_connected(((struct fx *)f)->kv); }
static int called(void *f) { return ((struct fx *)f)->called > 0; }

/* provider: "openai" (the model peer) or "offline". */
static void fx_init(struct fx *f, const char *provider)
{
    struct kv_url url;
    struct err e;

    memset(f, 0, sizeof *f);
    loopback_peer_start(&f->model);
    loopback_peer_start(&f->redis);
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    f->lu = loop_until_new(f->loop);
    snprintf(f->cfg.llm_provider, sizeof f->cfg.llm_provider, "%s", provider);
    snprintf(f->cfg.llm_base_url, sizeof f->cfg.llm_base_url, "http://127.0.0.1:%d",
             f->model.port);
    snprintf(f->cfg.llm_model, sizeof f->cfg.llm_model, "test-model");
    f->cfg.llm_timeout_ms = 30000;
    f->cfg.llm_connect_timeout_ms = 5000;
    f->cfg.llm_max_attempts = 1;
    f->cfg.breaker_threshold = 1000;
    f->llm = llm_new(f->loop, &f->cfg, &e);
    if (f->llm == NULL)
        fail_msg("llm_new: %s", e.msg);
    f->prompts = prompt_set_load("prompts", &e);
    if (f->prompts == NULL)
        fail_msg("prompt_set_load: %s (run from the repository root)", e.msg);
    memset(&url, 0, sizeof url);
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    url.port = f->redis.port;
    f->kv = kv_async_new(f->loop, &url, "test", NULL, NULL, &e);
    assert_non_null(f->kv);
    f->ctx = (struct model_ctx){&f->cfg, f->llm, f->prompts, f->kv};
}

static void fx_cleanup(struct fx *f)
{
    kv_async_free(f->kv);
    llm_free(f->llm);
    prompt_set_free(f->prompts);
    loop_until_free(f->lu);
    loop_free(f->loop);
    loopback_peer_stop(&f->model);
    loopback_peer_stop(&f->redis);
    model_answer_cleanup(&f->last);
}

static const struct prompt_vars question_vars = {
    .file_path = "src/a.c", .language = "c", .code = "1\tint main(void) { return 0; }\n",
};

/* Takes an answer holding "good" (as an empty object); refuses others. */
static int parse_good(const char *text, size_t len, cJSON **out, char *why, size_t cap)
{
    (void)len;
    if (strstr(text, "good") == NULL) {
        snprintf(why, cap, "not good");
        return -1;
    }
    *out = cJSON_CreateObject();
    return 0;
}

/* A review question; cached answers would live an hour. */
static void ask(struct fx *f)
{
    struct model_question q = {.task = "review", .vars = &question_vars, .parse = parse_good,
                               .cache_ttl_s = 3600, .spent = &f->spent};

    assert_int_equal(model_ask(&f->ctx, &q, on_answer, f, &f->ask), 0);
}

/* What an aborted call of the question is counted: its prompt's characters
 * / 4, rounded up. */
static int64_t abort_charge(struct fx *f)
{
    struct prompt p;
    struct err e;
    int64_t n;

    assert_int_equal(prompt_build(f->prompts, "review", &question_vars, &p, &e), 0);
    n = (int64_t)((strlen(p.system) + strlen(p.user) + 3) / 4);
    prompt_cleanup(&p);
    return n;
}

/* The model peer answers the request it read with content (a chat
 * completion using 100 input and 20 output tokens, stopped for finish) and
 * closes the connection, so that a next call comes on a new one. */
static void model_says_why(struct fx *f, const char *content, const char *finish)
{
    char body[512], reply[1024];

    snprintf(body, sizeof body, "{\"choices\":[{\"message\":{\"content\":\"%s\"},"
             "\"finish_reason\":\"%s\"}],"
             "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20}}", content, finish);
    snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    loopback_peer_say(&f->model, reply);
    loopback_peer_drop(&f->model);
}

static void model_says(struct fx *f, const char *content)
{
    model_says_why(f, content, "stop");
}

/* Sets up f with Redis connected, asks, and cancels the ask once its cache
 * lookup has reached Redis (which has not answered). */
static void cancelled_with_cache_lookup_out(struct fx *f)
{
    fx_init(f, "openai");
    assert_true(loop_until_run(f->lu, kv_up, f, WAIT_MS));
    ask(f);
    assert_true(loop_until_run(f->lu, cache_asked, f, WAIT_MS));
    cancel_now(&f->ask);
}

/* Redis is not connected yet, so the ask goes to the model; cancelled with
 * its request out, the model call is aborted and the ask freed. */
static void test_cancel_with_model_call_out(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "openai");
    ask(&f);
    assert_non_null(f.ask.fn);
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    assert_int_equal(llm_inflight(f.llm), 1);
    assert_int_equal(f.spent.tokens, 0);
    cancel_now(&f.ask);
    assert_null(f.ask.fn);
    assert_int_equal(llm_inflight(f.llm), 0);
    /* The vendor may bill the prompt it read: counted before cancel_now
     * returned. */
    assert_int_equal(f.spent.tokens, abort_charge(&f));
    assert_int_equal(llm_usage_tokens(&f.spent.usage), 0);
    assert_true(loop_until_run(f.lu, model_dropped, &f, WAIT_MS));
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    fx_cleanup(&f);
}

/* An answered call adds its usage, once; the answer carries it too. */
static void test_answered_call_is_counted(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "openai");
    ask(&f);
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    model_says(&f, "good");
    assert_true(loop_until_run(f.lu, called, &f, WAIT_MS));
    assert_false(f.last.degraded);
    assert_int_equal(f.last.tokens, 120);
    assert_int_equal(f.spent.tokens, 120);
    assert_int_equal(f.spent.usage.input_tokens, 100);
    assert_int_equal(f.spent.usage.output_tokens, 20);
    fx_cleanup(&f);
}

/* The first answer is refused and the repair call is cancelled while out:
 * the first call's usage stays counted (the vendor did the work), and the
 * repair, a longer prompt, is counted by its characters. */
static void test_cancelled_repair_keeps_the_first_call(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "openai");
    ask(&f);
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    model_says(&f, "bad");
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    assert_int_equal(f.spent.tokens, 120);
    assert_int_equal(f.called, 0);
    cancel_now(&f.ask);
    assert_true(f.spent.tokens > 120 + abort_charge(&f));
    /* The usage is the answered call's alone: the repair reported none. */
    assert_int_equal(f.spent.usage.input_tokens, 100);
    assert_int_equal(f.spent.usage.output_tokens, 20);
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    fx_cleanup(&f);
}

/* Both answers are cut at max_tokens (finish_reason "length"): the one
 * repair goes out, and the job degrades saying why. Before, the stop
 * reason was not read and the reason said the answer was invalid. */
static void test_cut_answers_degrade_as_cut(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "openai");
    ask(&f);
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    model_says_why(&f, "{\\\"findings\\\": [", "length");
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    model_says_why(&f, "{\\\"findings\\\": [", "length");
    assert_true(loop_until_run(f.lu, called, &f, WAIT_MS));
    assert_true(f.last.degraded);
    assert_string_equal(f.last.degraded_reason,
                        "model answer cut at max_tokens after one repair attempt");
    assert_int_equal(f.spent.tokens, 240);
    fx_cleanup(&f);
}

/* The model's first reply is a 200 that is not a completion but reports
 * usage (billed): the call waits to retry it. Cancelled then, the ask
 * counts that usage; before, llm_cancel freed it with the call and the
 * job was charged nothing for it. */
static void test_cancel_while_retrying_counts_the_billed_reply(void **state)
{
    static const char body[] = "{\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":4}}";
    char reply[512];
    struct fx f;

    (void)state;
    fx_init(&f, "openai");
    /* Two attempts: the malformed reply is retried. */
    llm_free(f.llm);
    f.cfg.llm_max_attempts = 2;
    f.llm = llm_new(f.loop, &f.cfg, &(struct err){0});
    assert_non_null(f.llm);
    f.ctx.llm = f.llm;
    ask(&f);
    assert_true(loop_until_run(f.lu, model_asked, &f, WAIT_MS));
    snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    loopback_peer_say(&f.model, reply);
    loopback_peer_drop(&f.model);
    /* Read; the retry waits 250 ms or more. */
    loop_until_run(f.lu, NULL, NULL, 100);
    assert_int_equal(f.called, 0);
    cancel_now(&f.ask);
    /* 304 billed; plus the prompt's characters only if the retry went out
     * first, on a very slow machine. */
    assert_true(f.spent.tokens == 304 || f.spent.tokens == 304 + abort_charge(&f));
    /* The billed reply's usage is reported too; the estimate is not. */
    assert_int_equal(f.spent.usage.input_tokens, 300);
    assert_int_equal(f.spent.usage.output_tokens, 4);
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    fx_cleanup(&f);
}

/* Cancelled with its cache lookup out: nothing calls back, and when Redis
 * answers (a miss) the ask is freed instead of calling the model. */
static void test_cancel_with_cache_lookup_out(void **state)
{
    struct fx f;

    (void)state;
    cancelled_with_cache_lookup_out(&f);
    assert_null(f.ask.fn);
    loopback_peer_say(&f.redis, "$-1\r\n");
    loop_until_run(f.lu, NULL, NULL, QUIET_MS);
    assert_int_equal(f.called, 0);
    assert_int_equal(llm_inflight(f.llm), 0);
    assert_false(loopback_peer_pending(&f.model));
    assert_int_equal(f.spent.tokens, 0);       /* no model call went out */
    fx_cleanup(&f);
}

/* The same, with the connection closed under the lookup (a worker shutting
 * down): kv_async_free fails it, and that frees the ask. */
static void test_cancel_then_connection_closed(void **state)
{
    struct fx f;

    (void)state;
    cancelled_with_cache_lookup_out(&f);
    kv_async_free(f.kv);
    f.kv = NULL;
    assert_int_equal(f.called, 0);
    assert_int_equal(llm_inflight(f.llm), 0);
    fx_cleanup(&f);
}

/* An ask answered before model_ask returned (no model) leaves the cancel
 * empty: cancelling then does nothing. */
static void test_answered_ask_leaves_nothing_to_cancel(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "offline");
    ask(&f);
    assert_int_equal(f.called, 1);
    assert_true(f.last.degraded);
    assert_null(f.ask.fn);
    cancel_now(&f.ask);
    assert_int_equal(f.called, 1);
    fx_cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_with_model_call_out),
        cmocka_unit_test(test_answered_call_is_counted),
        cmocka_unit_test(test_cancelled_repair_keeps_the_first_call),
        cmocka_unit_test(test_cancel_while_retrying_counts_the_billed_reply),
        cmocka_unit_test(test_cut_answers_degrade_as_cut),
        cmocka_unit_test(test_cancel_with_cache_lookup_out),
        cmocka_unit_test(test_cancel_then_connection_closed),
        cmocka_unit_test(test_answered_ask_leaves_nothing_to_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
