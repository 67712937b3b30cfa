/* test_answer_version.c - unit tests for worker/answer_version.c: the
 * digest a result-cache entry must match changes with each thing a
 * worker's answers depend on and the gateway cannot see, and only then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/answer_version.h"

static const struct answer_basis base = {
    .task = "review",
    .prompt = "review@4.852e5d+brain@8.253215",
    .provider = "anthropic",
    .model = "claude-sonnet-4-5",
    .input_max_bytes = 48000,
    .debug_fix_attempts = 2,
    .linters_missing = "eslint",
    .linters_not_run = NULL,
    .sandbox = 0,
};

static void version_of(const struct answer_basis *b, char out[ANSWER_VERSION_LEN])
{
    memset(out, 'x', ANSWER_VERSION_LEN);
    answer_version(b, out);
    assert_int_equal(strlen(out), ANSWER_VERSION_LEN - 1);
    assert_int_equal(strspn(out, "0123456789abcdef"), ANSWER_VERSION_LEN - 1);
}

static void assert_differs(const struct answer_basis *b, const char *what)
{
    char want[ANSWER_VERSION_LEN], got[ANSWER_VERSION_LEN];

    version_of(&base, want);
    version_of(b, got);
    if (strcmp(want, got) == 0)
        fail_msg("changing %s leaves the answer version %s", what, got);
}

static void test_stable(void **state)
{
    struct answer_basis same = base;
    char a[ANSWER_VERSION_LEN], b[ANSWER_VERSION_LEN];

    (void)state;
    version_of(&base, a);
    version_of(&same, b);
    assert_string_equal(a, b);
    /* NULL and "" are the same nothing. */
    same.linters_not_run = "";
    version_of(&same, b);
    assert_string_equal(a, b);
}

/* The model a worker calls: with CODEINSIGHT_LLM_PROVIDER empty, which API
 * key it has decides, and the gateway never sees the keys. */
static void test_model(void **state)
{
    struct answer_basis b = base;

    (void)state;
    b.provider = "offline";
    b.model = "";
    assert_differs(&b, "the provider (offline)");
    b = base;
    b.model = "claude-opus-4";
    assert_differs(&b, "the model");
    b = base;
    b.provider = "openrouter";
    assert_differs(&b, "the provider");
}

static void test_prompt_and_limits(void **state)
{
    struct answer_basis b = base;

    (void)state;
    b.prompt = "review@5.852e5d+brain@8.253215";
    assert_differs(&b, "the template version");
    b = base;
    b.prompt = "review@4.852e5e+brain@8.253215";
    assert_differs(&b, "the template's digest");
    b = base;
    b.prompt = "review@4.852e5d+brain@9.253215";
    assert_differs(&b, "the brain version");
    b = base;
    b.prompt = "review@4.852e5d+brain@8.253216";
    assert_differs(&b, "the role block's digest");
    b = base;
    b.input_max_bytes = 96000;
    assert_differs(&b, "CODEINSIGHT_INPUT_MAX_BYTES");
    b = base;
    b.debug_fix_attempts = 3;
    assert_differs(&b, "CODEINSIGHT_DEBUG_FIX_ATTEMPTS");
}

static void test_tools(void **state)
{
    struct answer_basis b = base;

    (void)state;
    b.linters_missing = "";
    assert_differs(&b, "the linters missing");
    b = base;
    b.linters_not_run = "all";
    assert_differs(&b, "the linters not run");
    b = base;
    b.sandbox = 1;
    assert_differs(&b, "the sandbox");
}

/* The tasks of a pool never share a version, so one list serves them all. */
static void test_task(void **state)
{
    struct answer_basis b = base;

    (void)state;
    b.task = "debug";
    assert_differs(&b, "the task");
    /* Parts are length-prefixed: moving a byte from one to the next shows. */
    b = base;
    b.provider = "anthropicc";
    b.model = "laude-sonnet-4-5";
    assert_differs(&b, "where one part ends");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stable),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_prompt_and_limits),
        cmocka_unit_test(test_tools),
        cmocka_unit_test(test_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
