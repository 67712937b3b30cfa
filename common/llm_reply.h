/* llm_reply.h - a provider's answer body (Anthropic Messages, OpenAI chat
 * completions, OpenRouter): the answer's text and the usage it reports.
 * Pure: no I/O (unit-tested in test_llm_reply.c and test_fuzz.c).
 *
 * The usage decides what a caller is charged, and an on-prem server or a
 * proxy may send anything: a count that is missing, negative, not a number
 * or not finite counts 0; one over LLM_REPLY_TOKENS_MAX counts that much; a
 * cached count over the prompt's is the prompt's (so input is never
 * negative); a cost that is negative or not finite counts 0, over
 * LLM_REPLY_COST_MAX that much. */
#ifndef CI_LLM_REPLY_H
#define CI_LLM_REPLY_H

#include <stddef.h>

#include "common/llm.h"

/* Tokens of one kind one call may report: far above any model's window. */
#define LLM_REPLY_TOKENS_MAX 100000000
/* USD one call may report (OpenRouter's usage.cost). */
#define LLM_REPLY_COST_MAX 10000.0

/* What a reply body holds. */
enum llm_reply_kind {
    LLM_REPLY_MALFORMED = -1,   /* not a reply of the provider's format (a proxy's
                                   page, a cut body): worth sending again */
    LLM_REPLY_TEXT = 0,         /* an answer, with its text */
    LLM_REPLY_NO_TEXT = 1       /* a complete reply carrying no text: the model
                                   refused (OpenAI content null and "refusal"), a
                                   content filter stopped it, Anthropic's content
                                   is []; sent again, it would answer the same */
};

/* Parses body[0..len) of provider p (not LLM_OFFLINE). Adds its usage into
 * *usage whatever the outcome (a malformed answer may still have been
 * billed). Returns LLM_REPLY_TEXT with the answer's text in *text (owns;
 * free; a previous *text is freed): Anthropic's every content block of type
 * "text" joined in order, OpenAI's first choice's message content; and
 * *truncated 1 when the provider stopped at the max_tokens limit (Anthropic
 * stop_reason "max_tokens", OpenAI/OpenRouter finish_reason "length"): the
 * text is cut short ("" when the limit came before any text), else 0. Else
 * (*text untouched) LLM_REPLY_NO_TEXT for a reply of p's format without
 * text: an Anthropic message (a "content" list) without a text block, a
 * completion whose first choice (with a "message" object or a
 * "finish_reason") has a null or no content; LLM_REPLY_MALFORMED for
 * anything else (not a JSON object, no content list, no choice, a content
 * neither string nor null) and when out of memory; *truncated is 0 then. */
int llm_reply_parse(enum llm_provider p, const char *body, size_t len, char **text,
                    int *truncated, struct llm_usage *usage);

#endif
