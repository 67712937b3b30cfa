/* test_llm_reply.c - unit tests for common/llm_reply.c (llm_reply_parse):
 * each provider's answer body, and the usage figures a broken or hostile
 * server could send, which decide what a caller is charged. Bodies are
 * heap copies of exactly their length (ASan catches a read past it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/llm_reply.h"
#include "tests/unit/fixture.h"

static int parse(enum llm_provider p, const char *body, char **text, struct llm_usage *u)
{
    char *copy = fixture_exact_copy(body, strlen(body));
    int rc = llm_reply_parse(p, copy, strlen(body), text, u);

    free(copy);
    return rc;
}

static void test_anthropic(void **state)
{
    struct llm_usage u = {0};
    char *text = NULL;
    (void)state;

    assert_int_equal(parse(LLM_ANTHROPIC,
                           "{\"content\":[{\"type\":\"tool_use\",\"id\":\"x\"},{\"type\":\"text\","
                           "\"text\":\"{\\\"findings\\\":[]}\"}],\"usage\":{\"input_tokens\":10,"
                           "\"output_tokens\":5,\"cache_creation_input_tokens\":3,"
                           "\"cache_read_input_tokens\":2}}",
                           &text, &u),
                     0);
    assert_string_equal(text, "{\"findings\":[]}");
    assert_int_equal(u.input_tokens, 10);
    assert_int_equal(u.output_tokens, 5);
    assert_int_equal(u.cache_write_tokens, 3);
    assert_int_equal(u.cache_read_tokens, 2);
    free(text);
}

static void test_openai_cached_and_cost(void **state)
{
    struct llm_usage u = {0};
    char *text = NULL;
    (void)state;

    assert_int_equal(parse(LLM_OPENROUTER,
                           "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"ok\"}}],"
                           "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":7,"
                           "\"prompt_tokens_details\":{\"cached_tokens\":40},\"cost\":0.5}}",
                           &text, &u),
                     0);
    assert_string_equal(text, "ok");
    assert_int_equal(u.input_tokens, 60);
    assert_int_equal(u.cache_read_tokens, 40);
    assert_int_equal(u.output_tokens, 7);
    assert_true(u.cost_usd == 0.5);
    free(text);
}

/* More cached than prompt would make the input negative: a refund. */
static void test_cached_over_prompt(void **state)
{
    struct llm_usage u = {0};
    char *text = NULL;
    (void)state;

    assert_int_equal(parse(LLM_OPENAI,
                           "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
                           "{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":50}}}",
                           &text, &u),
                     0);
    assert_int_equal(u.input_tokens, 0);
    assert_int_equal(u.cache_read_tokens, 10);
    free(text);
}

static void test_hostile_figures(void **state)
{
    struct llm_usage u = {0};
    char *text = NULL;
    (void)state;

    /* Negative, huge, infinite (1e999 parses as inf) and a string. */
    assert_int_equal(parse(LLM_ANTHROPIC,
                           "{\"content\":[{\"text\":\"t\"}],\"usage\":{\"input_tokens\":-5,"
                           "\"output_tokens\":1e300,\"cache_creation_input_tokens\":1e999,"
                           "\"cache_read_input_tokens\":\"12\"}}",
                           &text, &u),
                     0);
    assert_int_equal(u.input_tokens, 0);
    assert_int_equal(u.output_tokens, LLM_REPLY_TOKENS_MAX);
    assert_int_equal(u.cache_write_tokens, 0);
    assert_int_equal(u.cache_read_tokens, 0);
    free(text);
    text = NULL;

    memset(&u, 0, sizeof u);
    assert_int_equal(parse(LLM_OPENROUTER,
                           "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":"
                           "{\"prompt_tokens\":-1e20,\"completion_tokens\":9e18,\"cost\":1e999}}",
                           &text, &u),
                     0);
    assert_int_equal(u.input_tokens, 0);
    assert_int_equal(u.output_tokens, LLM_REPLY_TOKENS_MAX);
    assert_true(u.cost_usd == 0);
    free(text);
    text = NULL;

    memset(&u, 0, sizeof u);
    assert_int_equal(parse(LLM_OPENROUTER,
                           "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":{\"cost\":-3}}",
                           &text, &u),
                     0);
    assert_true(u.cost_usd == 0);
    free(text);
    text = NULL;

    memset(&u, 0, sizeof u);
    assert_int_equal(parse(LLM_OPENROUTER,
                           "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":{\"cost\":1e9}}",
                           &text, &u),
                     0);
    assert_true(u.cost_usd == LLM_REPLY_COST_MAX);
    free(text);
}

/* Not an answer: -1, the text untouched, the usage still counted. */
static void test_not_an_answer(void **state)
{
    struct llm_usage u = {0};
    char *text = strdup("earlier");
    (void)state;

    assert_non_null(text);
    assert_int_equal(parse(LLM_ANTHROPIC,
                           "{\"content\":[{\"type\":\"tool_use\"}],\"usage\":{\"input_tokens\":4}}",
                           &text, &u),
                     -1);
    assert_string_equal(text, "earlier");
    assert_int_equal(u.input_tokens, 4);
    assert_int_equal(parse(LLM_OPENAI, "{\"choices\":[]}", &text, &u), -1);
    assert_int_equal(parse(LLM_OPENAI, "{\"choices\":[{\"message\":{\"content\":7}}]}", &text, &u),
                     -1);
    assert_int_equal(parse(LLM_ANTHROPIC, "<html>", &text, &u), -1);
    assert_int_equal(parse(LLM_ANTHROPIC, "", &text, &u), -1);
    assert_int_equal(u.input_tokens, 4);
    assert_string_equal(text, "earlier");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anthropic),          cmocka_unit_test(test_openai_cached_and_cost),
        cmocka_unit_test(test_cached_over_prompt), cmocka_unit_test(test_hostile_figures),
        cmocka_unit_test(test_not_an_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
