/* test_audit_llm_target.c - audit reproduction: the model target the
 * gateway puts in every result-cache key (gateway/admit.c result_digest,
 * gw->llm_target from llm_target()) is not the one the workers use when the
 * provider is chosen by its API key (CODEINSIGHT_LLM_PROVIDER empty, the
 * shipped default): ANTHROPIC_API_KEY is a worker-only variable, so the
 * gateway's configuration never sees it and its target is "offline". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"
#include "common/llm.h"

static void target_of(unsigned procs, char *out, size_t cap)
{
    static struct config cfg;
    struct err e;

    assert_int_equal(config_load(&cfg, procs, &e), ERR_OK);
    assert_int_equal(llm_target(&cfg, out, cap, &e), ERR_OK);
}

static void test_key_chosen_provider_same_target(void **state)
{
    char gw[600], wk[600];

    (void)state;
    setenv("REDIS_URL", "redis://127.0.0.1:6379/0", 1);
    setenv("DATABASE_URL", "postgresql://ci:x@127.0.0.1:5432/ci", 1);
    setenv("CODEINSIGHT_KEY_PEPPER", "pepper-0123456789abcdef0123456789abcdef", 1);
    setenv("CODEINSIGHT_JWT_SECRET", "jwt-0123456789abcdef0123456789abcdef0123", 1);
    unsetenv("CODEINSIGHT_LLM_PROVIDER");
    setenv("ANTHROPIC_API_KEY", "sk-ant-audit-0123456789", 1);   /* both processes get it */
    target_of(CFG_GATEWAY, gw, sizeof gw);
    target_of(CFG_WORKER, wk, sizeof wk);
    /* Expected: the gateway keys results by the model the workers call. */
    assert_string_equal(gw, wk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_chosen_provider_same_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
