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

/* Parses body[0..len) of provider p (not LLM_OFFLINE). Adds its usage into
 * *usage whatever the outcome (a malformed answer may still have been
 * billed). Returns 0 with the answer's text in *text (owns; free; a
 * previous *text is freed): Anthropic's every content block of type "text"
 * joined in order, OpenAI's first choice's message content; or -1 when the
 * body is not an answer of p's format (*text untouched). */
int llm_reply_parse(enum llm_provider p, const char *body, size_t len, char **text,
                    struct llm_usage *usage);

#endif
