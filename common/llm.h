/* llm.h - the model client: Anthropic Messages, OpenRouter and any
 * OpenAI-compatible chat-completions server, or offline (no model).
 *
 * Calls run on the event loop through the async HTTP client, hundreds at
 * once. Each call is retried on 429, 529, 5xx, timeouts and transport errors
 * with exponential backoff and jitter, honouring retry-after (and Anthropic's
 * rate-limit reset); a 429 reporting an exhausted spend limit and 400/401/403
 * are final. A circuit breaker opens after consecutive failures and lets one
 * trial call through after its cooldown. The API key is sent in a header and
 * never logged.
 */
#ifndef CI_LLM_H
#define CI_LLM_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct err;
struct llm;
struct llm_call;
struct loop;

enum llm_provider { LLM_OFFLINE, LLM_ANTHROPIC, LLM_OPENROUTER, LLM_OPENAI };

struct llm_usage {
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cache_read_tokens;
    int64_t cache_write_tokens;
    double cost_usd;
};

/* Adds u into to (every kind, and the cost). */
void llm_usage_add(struct llm_usage *to, const struct llm_usage *u);

/* Every token kind together: what a job is charged. */
int64_t llm_usage_tokens(const struct llm_usage *u);

struct llm_result {
    int ok;                     /* 1: text holds the model's answer */
    char *text;                 /* owns (free) when ok */
    int truncated;              /* ok, and the provider stopped at max_tokens: text is
                                   cut short (llm_reply.h) */
    struct llm_usage usage;     /* summed over attempts */
    int attempts;
    char reason[160];           /* why not ok: "upstream_429", "circuit_open", ... */
};

/* res is taken: the callee frees res->text. */
typedef void llm_done_cb(void *arg, struct llm_result *res);

/* Resolves the provider, URL, model and key from cfg. Returns a client
 * (owns; llm_free), or NULL with e set (e.g. openai without a base URL). */
struct llm *llm_new(struct loop *loop, const struct config *cfg, struct err *e);

/* Cancels calls in flight (their callbacks do not run) and frees. Accepts NULL. */
void llm_free(struct llm *m);

/* 0 when offline: callers skip the model step. */
int llm_enabled(const struct llm *m);

const char *llm_provider_name(const struct llm *m);
const char *llm_model_name(const struct llm *m);

/* Calls in flight (including those waiting for a retry). */
int llm_inflight(const struct llm *m);

/* Starts a call: system is the stable part (cached by the provider where it
 * can be), user the variable part. A 200 reply whose body is not the
 * provider's format is retried as upstream_malformed; one that is complete
 * but carries no text (a refusal, a content filter) ends the call at once,
 * not ok, reason "upstream_refused". Copies its inputs. Returns the call
 * (borrowed: valid until cb runs or llm_cancel), whose cb runs exactly once,
 * from the loop, never inside this call; or NULL with e set (offline, out of
 * memory) and cb never runs. */
struct llm_call *llm_call(struct llm *m, const char *system, const char *user,
                          int64_t max_tokens, llm_done_cb *cb, void *arg, struct err *e);

/* Stops a call before its cb ran: aborts its transfer or its wait for a
 * retry and frees it; cb never runs. A call that was the breaker's half-open
 * trial lets the next call be the trial. It counts in no call metric. Adds
 * the usage its earlier attempts reported (answered, but not usable: a
 * malformed 200 before a retry) into *spent (may be NULL), since those were
 * billed. Accepts NULL. Not after cb has run (the call is freed then).
 * Returns 1 when a transfer was out (the vendor may have read, and bill, the
 * request: its usage is not known), 0 when the call was waiting for a
 * retry, or c was NULL. */
int llm_cancel(struct llm_call *c, struct llm_usage *spent);

/* Checks a price table "model=in,out[,cw,cr];..." (CODEINSIGHT_LLM_PRICES):
 * every entry names a model and gives two or four finite, non-negative
 * decimal prices. "" (no table) passes. Returns ERR_OK, or ERR_CONFIG with e
 * naming the variable and the entry's position. */
int llm_prices_check(const char *prices, struct err *e);

/* Cost in USD of usage under a price table "model=in,out,cw,cr;..." (USD
 * per million tokens). Returns -1 when the model is not in the table. */
double llm_cost(const char *prices, const char *model, const struct llm_usage *u);

#endif
