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

static const cJSON *anthropic(const cJSON *doc, struct llm_usage *u)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage"), *blk;

    u->input_tokens += count(usage, "input_tokens");
    u->output_tokens += count(usage, "output_tokens");
    u->cache_write_tokens += count(usage, "cache_creation_input_tokens");
    u->cache_read_tokens += count(usage, "cache_read_input_tokens");
    cJSON_ArrayForEach(blk, cJSON_GetObjectItemCaseSensitive(doc, "content")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(blk, "text");
        if (cJSON_IsString(t))
            return t;
    }
    return NULL;
}

static const cJSON *openai(const cJSON *doc, struct llm_usage *u)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "choices"), 0);
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details");
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(usage, "cost");
    int64_t prompt = count(usage, "prompt_tokens"), cached = count(details, "cached_tokens");

    /* prompt_tokens includes the cached ones. */
    if (cached > prompt)
        cached = prompt;
    u->input_tokens += prompt - cached;
    u->cache_read_tokens += cached;
    u->output_tokens += count(usage, "completion_tokens");
    if (cJSON_IsNumber(cost) && isfinite(cost->valuedouble) && cost->valuedouble >= 0)
        u->cost_usd += fmin(cost->valuedouble, LLM_REPLY_COST_MAX);
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(choice, "message"), "content");
}

int llm_reply_parse(enum llm_provider p, const char *body, size_t len, char **text,
                    struct llm_usage *usage)
{
    cJSON *doc = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *t;
    char *copy = NULL;

    if (doc == NULL)
        return -1;
    t = p == LLM_ANTHROPIC ? anthropic(doc, usage) : openai(doc, usage);
    if (cJSON_IsString(t))
        copy = strdup(t->valuestring);
    cJSON_Delete(doc);
    if (copy == NULL)
        return -1;
    free(*text);
    *text = copy;
    return 0;
}
