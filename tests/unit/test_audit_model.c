/* test_audit_model.c - audit reproductions for the worker's model answers
 * and model calls. Each test states the behaviour the documentation
 * promises; a failure is the defect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "common/config.h"
#include "common/err.h"
#include "common/llm.h"
#include "common/loop.h"
#include "tests/unit/loop_until.h"
#include "tests/unit/loopback_peer.h"

/* ---- the model client against a loopback server ---- */

struct fx {
    struct loop *loop;
    struct config cfg;
    struct llm *llm;
    struct loopback_peer peer;
    struct loop_until *lu;
    int called;
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
static int called(void *f) { return ((struct fx *)f)->called > 0; }

/* A complete, well-formed chat completion that carries no text: the model
 * refused (OpenAI "refusal", content null). Billed: usage is reported. */
static const char refusal_body[] =
    "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":10}}";

/* docs/pipeline.md: "429/529/5xx/timeouts retried ... at most
 * CODEINSIGHT_LLM_MAX_ATTEMPTS". A 200 reply that is a complete answer
 * without text is not transient; it is sent again, and every copy billed. */
static void test_complete_reply_without_text_is_not_resent(void **state)
{
    struct fx f;
    struct err e;
    int requests = 0;

    (void)state;
    char refusal[1024];

    snprintf(refusal, sizeof refusal, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(refusal_body),
             refusal_body);
    memset(&f, 0, sizeof f);
    loopback_peer_start(&f.peer);
    f.loop = loop_new(&e);
    f.lu = loop_until_new(f.loop);
    snprintf(f.cfg.llm_provider, sizeof f.cfg.llm_provider, "openai");
    snprintf(f.cfg.llm_base_url, sizeof f.cfg.llm_base_url, "http://127.0.0.1:%d", f.peer.port);
    snprintf(f.cfg.llm_model, sizeof f.cfg.llm_model, "test-model");
    f.cfg.llm_timeout_ms = 30000;
    f.cfg.llm_connect_timeout_ms = 5000;
    f.cfg.llm_max_attempts = 3;
    f.cfg.breaker_threshold = 1000;
    f.cfg.breaker_cooldown_ms = 50;
    f.llm = llm_new(f.loop, &f.cfg, &e);
    assert_non_null(f.llm);
    assert_non_null(llm_call(f.llm, "system", "user", 16, on_done, &f, &e));
    while (!f.called && loop_until_run(f.lu, request_read, &f, 5000)) {
        requests++;
        loopback_peer_say(&f.peer, refusal);
        loopback_peer_drop(&f.peer);
        loop_until_run(f.lu, called, &f, 200);
    }
    assert_true(loop_until_run(f.lu, called, &f, 10000));
    printf("requests %d, ok %d, reason %s, attempts %d, input_tokens %lld\n", requests,
           f.last.ok, f.last.reason, f.last.attempts, (long long)f.last.usage.input_tokens);
    assert_int_equal(f.last.ok, 0);
    assert_int_equal(requests, 1);
    assert_int_equal(f.last.usage.input_tokens, 1000);
    llm_free(f.llm);
    loop_until_free(f.lu);
    loop_free(f.loop);
    loopback_peer_stop(&f.peer);
    free(f.last.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_reply_without_text_is_not_resent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
