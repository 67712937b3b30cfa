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

#define OPENAI_TEXT "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"ok\"}}],"
#define TMAX LLM_REPLY_TOKENS_MAX

/* The text of a case whose body is a complete reply without text. */
static const char no_text[] = "(no text)";

static const struct reply_case {
    const char *what;
    enum llm_provider p;
    const char *body;
    const char *text;               /* NULL: not a reply (LLM_REPLY_MALFORMED); no_text:
                                       a reply without text (LLM_REPLY_NO_TEXT) */
    int64_t in, out, cw, cr;        /* usage added */
    double cost;
} cases[] = {
    {"anthropic, text after a tool block", LLM_ANTHROPIC,
     "{\"content\":[{\"type\":\"tool_use\",\"id\":\"x\"},{\"type\":\"text\",\"text\":"
     "\"{\\\"findings\\\":[]}\"}],\"usage\":{\"input_tokens\":10,\"output_tokens\":5,"
     "\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":2}}",
     "{\"findings\":[]}", 10, 5, 3, 2, 0},
    /* The answer is every text block, in order; before, only the first was
     * read and the answer was cut to '{"findings": [],'. */
    {"anthropic, several text blocks", LLM_ANTHROPIC,
     "{\"type\":\"message\",\"role\":\"assistant\",\"stop_reason\":\"end_turn\","
     "\"content\":[{\"type\":\"text\",\"text\":\"{\\\"findings\\\": [],\"},"
     "{\"type\":\"text\",\"text\":\" \\\"summary\\\": \\\"ok\\\"}\"}],"
     "\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}",
     "{\"findings\": [], \"summary\": \"ok\"}", 10, 5, 0, 0, 0},
    /* Only blocks of type "text" are the answer's. */
    {"anthropic, text member of another block", LLM_ANTHROPIC,
     "{\"content\":[{\"type\":\"note\",\"text\":\"not this\"},"
     "{\"type\":\"text\",\"text\":\"a\"},{\"text\":\"nor this\"},"
     "{\"type\":\"text\",\"text\":\"b\"}]}",
     "ab", 0, 0, 0, 0, 0},
    {"openrouter, cached and cost", LLM_OPENROUTER,
     OPENAI_TEXT "\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":7,"
                 "\"prompt_tokens_details\":{\"cached_tokens\":40},\"cost\":0.5}}",
     "ok", 60, 7, 0, 40, 0.5},
    /* More cached than prompt would make the input negative: a refund. */
    {"cached over prompt", LLM_OPENAI,
     OPENAI_TEXT "\"usage\":{\"prompt_tokens\":10,\"prompt_tokens_details\":{\"cached_tokens\":50}}}",
     "ok", 0, 0, 0, 10, 0},
    /* Negative, huge, infinite (1e999 parses as inf) and a string. */
    {"hostile anthropic counts", LLM_ANTHROPIC,
     "{\"content\":[{\"type\":\"text\",\"text\":\"t\"}],"
     "\"usage\":{\"input_tokens\":-5,\"output_tokens\":1e300,"
     "\"cache_creation_input_tokens\":1e999,\"cache_read_input_tokens\":\"12\"}}",
     "t", 0, TMAX, 0, 0, 0},
    {"hostile openai counts", LLM_OPENROUTER,
     OPENAI_TEXT "\"usage\":{\"prompt_tokens\":-1e20,\"completion_tokens\":9e18,\"cost\":1e999}}",
     "ok", 0, TMAX, 0, 0, 0},
    {"negative cost", LLM_OPENROUTER, OPENAI_TEXT "\"usage\":{\"cost\":-3}}", "ok", 0, 0, 0, 0, 0},
    {"huge cost", LLM_OPENROUTER, OPENAI_TEXT "\"usage\":{\"cost\":1e9}}", "ok", 0, 0, 0, 0,
     LLM_REPLY_COST_MAX},
    /* A complete reply without text (a refusal, a content filter): not worth
     * sending again, and what it says it used counts. Before, all of these
     * read as malformed and were retried, each copy billed. */
    {"no text block", LLM_ANTHROPIC,
     "{\"content\":[{\"type\":\"tool_use\"}],\"usage\":{\"input_tokens\":4}}", no_text, 4, 0,
     0, 0, 0},
    {"empty content", LLM_ANTHROPIC,
     "{\"type\":\"message\",\"content\":[],\"stop_reason\":\"end_turn\","
     "\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}", no_text, 9, 1, 0, 0, 0},
    {"openai refusal", LLM_OPENAI,
     "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
     "\"refusal\":\"I can't help with that.\"},\"finish_reason\":\"stop\"}],"
     "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":10}}", no_text, 1000, 10, 0, 0, 0},
    {"content filter", LLM_OPENROUTER,
     "{\"choices\":[{\"finish_reason\":\"content_filter\"}],\"usage\":{\"prompt_tokens\":8}}",
     no_text, 8, 0, 0, 0, 0},
    /* Not a reply, but what it says it used still counts. */
    {"no choice", LLM_OPENAI, "{\"choices\":[],\"usage\":{\"prompt_tokens\":3}}", NULL, 3, 0, 0,
     0, 0},
    {"no content list", LLM_ANTHROPIC, "{\"usage\":{\"input_tokens\":2}}", NULL, 2, 0, 0, 0, 0},
    {"content not a string", LLM_OPENAI, "{\"choices\":[{\"message\":{\"content\":7}}]}", NULL, 0,
     0, 0, 0, 0},
    {"not an object", LLM_OPENAI, "[1]", NULL, 0, 0, 0, 0, 0},
    {"not JSON", LLM_ANTHROPIC, "<html>", NULL, 0, 0, 0, 0, 0},
    {"empty", LLM_ANTHROPIC, "", NULL, 0, 0, 0, 0, 0},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct reply_case *c = &cases[i];
        size_t len = strlen(c->body);
        char *body = fixture_exact_copy(c->body, len), *text = strdup("earlier");
        struct llm_usage u = {0};
        int rc, cut = -1;

        assert_non_null(text);
        rc = llm_reply_parse(c->p, body, len, &text, &cut, &u);
        print_message("%s\n", c->what);
        assert_int_equal(rc, c->text == NULL      ? LLM_REPLY_MALFORMED
                             : c->text == no_text ? LLM_REPLY_NO_TEXT
                                                  : LLM_REPLY_TEXT);
        /* The text is replaced by the answer's, or left as it was. */
        assert_string_equal(text, rc == LLM_REPLY_TEXT ? c->text : "earlier");
        assert_int_equal(u.input_tokens, c->in);
        assert_int_equal(u.output_tokens, c->out);
        assert_int_equal(u.cache_write_tokens, c->cw);
        assert_int_equal(u.cache_read_tokens, c->cr);
        assert_true(u.cost_usd == c->cost);
        assert_int_equal(cut, 0);       /* none stopped at max_tokens */
        free(text);
        free(body);
    }
}

/* An answer the provider stopped at max_tokens is reported cut, so that the
 * repair asks for a shorter one. Before, the stop reason was not read: the
 * cut JSON went to repair as "text follows its closing '}'" and the model
 * answered as long again. */
static void test_truncated(void **state)
{
    static const struct {
        enum llm_provider p;
        const char *body;
        const char *text;
        int cut;
    } cut_cases[] = {
        {LLM_ANTHROPIC, "{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"findings\\\": [{\"}],"
                        "\"stop_reason\":\"max_tokens\"}", "{\"findings\": [{", 1},
        {LLM_ANTHROPIC, "{\"content\":[{\"type\":\"text\",\"text\":\"t\"}],"
                        "\"stop_reason\":\"end_turn\"}", "t", 0},
        {LLM_OPENAI, "{\"choices\":[{\"message\":{\"content\":\"{\\\"fin\"},"
                     "\"finish_reason\":\"length\"}]}", "{\"fin", 1},
        {LLM_OPENROUTER, "{\"choices\":[{\"message\":{\"content\":\"t\"},"
                         "\"finish_reason\":\"length\"}]}", "t", 1},
        {LLM_OPENAI, "{\"choices\":[{\"message\":{\"content\":\"t\"},"
                     "\"finish_reason\":\"stop\"}]}", "t", 0},
        /* Cut before any text: an empty answer, cut; not a refusal. */
        {LLM_ANTHROPIC, "{\"content\":[],\"stop_reason\":\"max_tokens\"}", "", 1},
        {LLM_OPENAI, "{\"choices\":[{\"message\":{\"content\":null},"
                     "\"finish_reason\":\"length\"}]}", "", 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cut_cases / sizeof cut_cases[0]; i++) {
        size_t len = strlen(cut_cases[i].body);
        char *body = fixture_exact_copy(cut_cases[i].body, len), *text = NULL;
        struct llm_usage u = {0};
        int cut = -1;

        print_message("case %zu\n", i);
        assert_int_equal(llm_reply_parse(cut_cases[i].p, body, len, &text, &cut, &u),
                         LLM_REPLY_TEXT);
        assert_string_equal(text, cut_cases[i].text);
        assert_int_equal(cut, cut_cases[i].cut);
        free(text);
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases),
                                       cmocka_unit_test(test_truncated)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
