/* llm_reply.c - see llm_reply.h. */
#include "common/llm_reply.h"

#include "common/json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A token count of o: 0 when absent, negative, not a number or not finite;
 * at most LLM_REPLY_TOKENS_MAX. */
static int64_t count(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    double d;

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
        return 0;
    d = v->valuedouble;
    return d > LLM_REPLY_TOKENS_MAX ? LLM_REPLY_TOKENS_MAX : (int64_t)d;
}

/* The text of blk when it is a block of type "text", else NULL. */
static const char *text_block(const cJSON *blk)
{
    const char *type = json_str(blk, "type");

    return type != NULL && strcmp(type, "text") == 0 ? json_str(blk, "text") : NULL;
}

/* The text of every "text" block of an Anthropic content list, joined in
 * order: the answer may come in several (a model that paused for a tool
 * or a citation), and other blocks (tool_use, thinking) carry none of it.
 * Returns 0 with it in *text (owns; NULL when there is no text block), or
 * -1 when out of memory. */
static int anthropic_text(const cJSON *content, char **text)
{
    const cJSON *blk;
    size_t n = 0, o = 0;
    int blocks = 0;
    char *out;

    cJSON_ArrayForEach(blk, content) {
        const char *t = text_block(blk);
        if (t != NULL) {
            n += strlen(t);
            blocks++;
        }
    }
    *text = NULL;
    if (blocks == 0)
        return 0;
    if ((out = malloc(n + 1)) == NULL)
        return -1;
    cJSON_ArrayForEach(blk, content) {
        const char *t = text_block(blk);
        if (t != NULL) {
            size_t k = strlen(t);
            memcpy(out + o, t, k);
            o += k;
        }
    }
    out[o] = '\0';
    *text = out;
    return 0;
}

/* An Anthropic message: its usage into *u, its text into *text (owns; NULL
 * when it has none), whether it stopped at max_tokens into *cut. Returns 0,
 * or -1 when doc is not a message (no content list) or out of memory (then
 * read as malformed, and retried). */
static int anthropic(const cJSON *doc, struct llm_usage *u, char **text, int *cut)
{
    const char *stop = json_str(doc, "stop_reason");

    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(doc, "content");

    u->input_tokens += count(usage, "input_tokens");
    u->output_tokens += count(usage, "output_tokens");
    u->cache_write_tokens += count(usage, "cache_creation_input_tokens");
    u->cache_read_tokens += count(usage, "cache_read_input_tokens");
    if (!cJSON_IsArray(content))
        return -1;
    *cut = stop != NULL && strcmp(stop, "max_tokens") == 0;
    return anthropic_text(content, text);
}

/* A chat completion, as anthropic(): a completion has a first choice with a
 * message or a finish_reason, whose content is a string or null (a
 * refusal, a content filter). */
static int openai(const cJSON *doc, struct llm_usage *u, char **text, int *cut)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "choices"), 0);
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(usage, "cost"), *msg, *content;
    const char *finish;
    int64_t prompt = count(usage, "prompt_tokens"), cached = count(details, "cached_tokens");

    /* prompt_tokens includes the cached ones. */
    if (cached > prompt)
        cached = prompt;
    u->input_tokens += prompt - cached;
    u->cache_read_tokens += cached;
    u->output_tokens += count(usage, "completion_tokens");
    if (cJSON_IsNumber(cost) && isfinite(cost->valuedouble) && cost->valuedouble >= 0)
        u->cost_usd += fmin(cost->valuedouble, LLM_REPLY_COST_MAX);
    msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!cJSON_IsObject(choice) || !(cJSON_IsObject(msg) || json_str(choice, "finish_reason")) ||
        !(content == NULL || cJSON_IsNull(content) || cJSON_IsString(content)))
        return -1;
    finish = json_str(choice, "finish_reason");
    *cut = finish != NULL && strcmp(finish, "length") == 0;
    if (!cJSON_IsString(content))
        return 0;
    *text = strdup(content->valuestring);
    return *text != NULL ? 0 : -1;
}

int llm_reply_parse(enum llm_provider p, const char *body, size_t len, char **text,
                    int *truncated, struct llm_usage *usage)
{
    cJSON *doc = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    char *copy = NULL;
    int rc, cut = 0;

    *truncated = 0;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return LLM_REPLY_MALFORMED;
    }
    rc = p == LLM_ANTHROPIC ? anthropic(doc, usage, &copy, &cut)
                            : openai(doc, usage, &copy, &cut);
    cJSON_Delete(doc);
    if (rc != 0)
        return LLM_REPLY_MALFORMED;
    /* Cut before its first word: an empty answer, which the caller's
     * parser refuses and repairs as cut, not a refusal. */
    if (copy == NULL && cut && (copy = strdup("")) == NULL)
        return LLM_REPLY_MALFORMED;
    if (copy == NULL)
        return LLM_REPLY_NO_TEXT;
    *truncated = cut;
    free(*text);
    *text = copy;
    return LLM_REPLY_TEXT;
}
