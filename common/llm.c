/* llm.c - model providers over the async HTTP client. */
#include "common/llm.h"
#include "common/llm_reply.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/metrics.h"
#include "common/metrics_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLM_RESPONSE_MAX (4 * 1024 * 1024)
#define LLM_BACKOFF_BASE_MS 500
#define LLM_BACKOFF_MAX_MS 20000
#define LLM_RETRY_AFTER_MAX_S 120
#define ANTHROPIC_VERSION "2023-06-01"

struct llm {
    struct loop *loop;
    const struct config *cfg;
    struct http_async *http;
    enum llm_provider provider;
    char url[600];
    char model[CFG_STR_MAX];
    char auth_header[600];          /* secret: "x-api-key: ..." or "Authorization: Bearer ..." */
    int inflight;
    int consecutive_failures;
    int64_t open_until_ms;          /* monotonic; circuit open while now < it */
    int half_open_trial;            /* a trial call is out */
    struct llm_call *calls;
};

struct llm_call {
    struct llm *m;
    struct llm_call *prev, *next;
    char *body;                     /* request JSON */
    size_t body_len;
    llm_done_cb *cb;
    void *arg;
    struct llm_result res;
    struct loop_timer *retry;
    int in_http;                    /* an HTTP transfer is out */
    int trial;                      /* this call is the half-open trial */
    int64_t started_ms;             /* monotonic, for the latency metric */
};

static const char *const provider_names[] = {"offline", "anthropic", "openrouter", "openai"};

/* ---- setup ---- */

int llm_prices_check(const char *prices, struct err *e)
{
    int n = 0;

    for (const char *p = prices; *p != '\0'; n++) {
        const char *end = p + strcspn(p, ";"), *eq = memchr(p, '=', (size_t)(end - p));
        const char *q;
        int count = 0;

        if (eq == NULL || eq == p)
            return err_set(e, ERR_CONFIG, "CODEINSIGHT_LLM_PRICES: entry %d is not "
                           "model=input,output[,cache_write,cache_read]", n + 1);
        for (q = eq + 1; q < end; count++) {
            char *num_end = NULL;
            double v;

            if (!(*q >= '0' && *q <= '9'))
                break;
            v = strtod(q, &num_end);
            if (num_end > end || !(v >= 0 && v < 1e9))
                break;
            q = num_end;
            if (q < end && *q == ',')
                q++;
            else if (q != end)
                break;
        }
        if (q != end || end[-1] == ',' || (count != 2 && count != 4))
            return err_set(e, ERR_CONFIG, "CODEINSIGHT_LLM_PRICES: entry %d needs 2 or 4 "
                           "prices, decimal USD per million tokens", n + 1);
        p = *end == ';' ? end + 1 : end;
    }
    return ERR_OK;
}

static int resolve(struct llm *m, const struct config *cfg, struct err *e)
{
    const char *p = cfg->llm_provider;
    const char *key = "";
    const char *base = "", *path = "", *model = "";

    if (llm_prices_check(cfg->llm_prices, e) != ERR_OK)
        return ERR_CONFIG;
    if (p[0] == '\0')
        p = cfg->anthropic_api_key[0] ? "anthropic" : cfg->openrouter_api_key[0] ? "openrouter"
                                                                                : "offline";
    if (strcmp(p, "anthropic") == 0) {
        m->provider = LLM_ANTHROPIC;
        key = cfg->anthropic_api_key[0] ? cfg->anthropic_api_key : cfg->llm_api_key;
        base = "https://api.anthropic.com";
        path = "/v1/messages";
        model = "claude-sonnet-4-5";
    } else if (strcmp(p, "openrouter") == 0) {
        m->provider = LLM_OPENROUTER;
        key = cfg->openrouter_api_key[0] ? cfg->openrouter_api_key : cfg->llm_api_key;
        base = "https://openrouter.ai/api";
        path = "/v1/chat/completions";
        model = "anthropic/claude-sonnet-4.5";
    } else if (strcmp(p, "openai") == 0) {
        m->provider = LLM_OPENAI;
        key = cfg->llm_api_key;
        path = "/v1/chat/completions";
        if (cfg->llm_base_url[0] == '\0')
            return err_set(e, ERR_CONFIG, "CODEINSIGHT_LLM_PROVIDER=openai needs "
                           "CODEINSIGHT_LLM_BASE_URL (the server's base, e.g. http://host:8000)");
        if (cfg->llm_model[0] == '\0')
            return err_set(e, ERR_CONFIG, "CODEINSIGHT_LLM_PROVIDER=openai needs "
                           "CODEINSIGHT_LLM_MODEL");
    } else if (strcmp(p, "offline") == 0) {
        m->provider = LLM_OFFLINE;
        return ERR_OK;
    } else {
        return err_set(e, ERR_CONFIG, "CODEINSIGHT_LLM_PROVIDER must be anthropic, openrouter, "
                       "openai or offline");
    }
    if (cfg->llm_base_url[0] != '\0')
        base = cfg->llm_base_url;
    if (cfg->llm_model[0] != '\0')
        model = cfg->llm_model;
    if (m->provider != LLM_OPENAI && key[0] == '\0')
        return err_set(e, ERR_CONFIG, "CODEINSIGHT_LLM_PROVIDER=%s needs its API key", p);
    snprintf(m->url, sizeof m->url, "%.*s%s", (int)(strlen(base) - (base[strlen(base) - 1] == '/')),
             base, path);
    snprintf(m->model, sizeof m->model, "%s", model);
    if (key[0] != '\0')
        snprintf(m->auth_header, sizeof m->auth_header,
                 m->provider == LLM_ANTHROPIC ? "x-api-key: %s" : "Authorization: Bearer %s", key);
    return ERR_OK;
}

/* Every outcome outcome_class() gives. */
static const char *const call_outcomes[] = {
    "ok", "rate_limited", "server_error", "client_error", "timeout", "unreachable",
    "malformed", "no_text", "spend_limit", "circuit_open", "refused", "error"};

/* The provider's call counters read 0 from the start, so that the first
 * refusal of a kind is an increase (an alert on increase() sees it). */
static void metrics_preset_calls(const char *provider)
{
    char labels[128];

    for (size_t i = 0; i < sizeof call_outcomes / sizeof call_outcomes[0]; i++)
        if (metrics_labels(labels, sizeof labels, "provider", provider, "outcome",
                           call_outcomes[i], NULL) == 0)
            metrics_add(MET_MODEL_CALLS, labels, 0);
}

struct llm *llm_new(struct loop *loop, const struct config *cfg, struct err *e)
{
    struct llm *m = calloc(1, sizeof *m);

    if (m == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    m->loop = loop;
    m->cfg = cfg;
    if (resolve(m, cfg, e) != ERR_OK) {
        free(m);
        return NULL;
    }
    if (m->provider != LLM_OFFLINE && (m->http = http_async_new(loop, e)) == NULL) {
        free(m);
        return NULL;
    }
    if (m->provider != LLM_OFFLINE)
        metrics_preset_calls(provider_names[m->provider]);
    return m;
}

static void call_free(struct llm_call *c)
{
    struct llm *m = c->m;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        m->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    m->inflight--;
    metrics_set(MET_MODEL_IN_FLIGHT, "", m->inflight);
    loop_timer_free(c->retry);
    free(c->body);
    free(c->res.text);
    free(c);
}

void llm_free(struct llm *m)
{
    if (m == NULL)
        return;
    /* Transfers are aborted first so no HTTP callback reaches a freed call. */
    http_async_free(m->http);
    while (m->calls != NULL)
        call_free(m->calls);
    crypto_wipe(m->auth_header, sizeof m->auth_header);
    free(m);
}

int llm_enabled(const struct llm *m) { return m->provider != LLM_OFFLINE; }
const char *llm_provider_name(const struct llm *m) { return provider_names[m->provider]; }
const char *llm_model_name(const struct llm *m)
{
    return m->provider == LLM_OFFLINE ? "" : m->model;
}
int llm_inflight(const struct llm *m) { return m->inflight; }

/* ---- prices ---- */

double llm_cost(const char *prices, const char *model, const struct llm_usage *u)
{
    size_t mlen = strlen(model);
    const char *p = prices;

    while (p != NULL && *p != '\0') {
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ';');
        if (eq == NULL)
            break;
        if ((size_t)(eq - p) == mlen && strncmp(p, model, mlen) == 0 && (end == NULL || eq < end)) {
            double in = 0, out = 0, cw = 0, cr = 0;
            if (sscanf(eq + 1, "%lf,%lf,%lf,%lf", &in, &out, &cw, &cr) < 2)
                return -1;
            return ((double)u->input_tokens * in + (double)u->output_tokens * out +
                    (double)u->cache_write_tokens * cw + (double)u->cache_read_tokens * cr) / 1e6;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

/* ---- request and response bodies ---- */

static char *build_body(const struct llm *m, const char *system, const char *user,
                        int64_t max_tokens)
{
    cJSON *b = cJSON_CreateObject(), *msgs, *msg;
    char *text;

    cJSON_AddStringToObject(b, "model", m->model);
    cJSON_AddNumberToObject(b, "max_tokens", (double)max_tokens);
    msgs = cJSON_CreateArray();
    if (m->provider == LLM_ANTHROPIC) {
        /* The stable system block is marked for Anthropic's prompt cache. */
        cJSON *sys = cJSON_AddArrayToObject(b, "system"), *blk = cJSON_CreateObject(), *cc;
        cJSON_AddStringToObject(blk, "type", "text");
        cJSON_AddStringToObject(blk, "text", system);
        cc = cJSON_AddObjectToObject(blk, "cache_control");
        cJSON_AddStringToObject(cc, "type", "ephemeral");
        cJSON_AddItemToArray(sys, blk);
    } else {
        msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "role", "system");
        cJSON_AddStringToObject(msg, "content", system);
        cJSON_AddItemToArray(msgs, msg);
    }
    msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddStringToObject(msg, "content", user);
    cJSON_AddItemToArray(msgs, msg);
    cJSON_AddItemToObject(b, "messages", msgs);
    if (m->provider == LLM_OPENROUTER) {
        cJSON *usage = cJSON_AddObjectToObject(b, "usage");
        cJSON_AddBoolToObject(usage, "include", 1);
    }
    text = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return text;
}

/* ---- calls, retries and the breaker ---- */

static void send_now(struct llm_call *c);

/* The outcome label of a finished call: a few classes, whatever the reason. */
static const char *outcome_class(int ok, const char *reason)
{
    long status;

    if (ok)
        return "ok";
    if (strcmp(reason, "circuit_open") == 0)
        return "circuit_open";
    if (strcmp(reason, "upstream_spend_limit") == 0)
        return "spend_limit";
    if (strcmp(reason, "upstream_timeout") == 0)
        return "timeout";
    if (strcmp(reason, "upstream_unreachable") == 0)
        return "unreachable";
    if (strcmp(reason, "upstream_malformed") == 0)
        return "malformed";
    if (strcmp(reason, "upstream_refused") == 0)
        return "no_text";
    if (strncmp(reason, "refused_", 8) == 0)
        return "refused";
    if (strncmp(reason, "upstream_", 9) != 0)
        return "error";
    status = strtol(reason + 9, NULL, 10);
    if (status == 429 || status == 529)
        return "rate_limited";
    return status >= 500 ? "server_error" : status >= 400 ? "client_error" : "error";
}

/* Counts a finished call: outcome, latency, tokens and cost. */
static void observe_call(const struct llm_call *c, int ok, const char *reason)
{
    const struct llm *m = c->m;
    const struct llm_usage *u = &c->res.usage;
    const char *provider = provider_names[m->provider];
    char labels[128];
    double cost;

    if (metrics_labels(labels, sizeof labels, "provider", provider, "outcome",
                       outcome_class(ok, reason), NULL) == 0)
        metrics_inc(MET_MODEL_CALLS, labels);
    if (metrics_labels(labels, sizeof labels, "provider", provider, NULL) == 0)
        metrics_observe(MET_MODEL_DURATION, labels,
                        (double)(clock_mono_ms() - c->started_ms) / 1000.0);
    metrics_add(MET_MODEL_TOKENS, "kind=\"input\"", (double)u->input_tokens);
    metrics_add(MET_MODEL_TOKENS, "kind=\"output\"", (double)u->output_tokens);
    metrics_add(MET_MODEL_TOKENS, "kind=\"cache_read\"", (double)u->cache_read_tokens);
    metrics_add(MET_MODEL_TOKENS, "kind=\"cache_write\"", (double)u->cache_write_tokens);
    cost = u->cost_usd > 0 ? u->cost_usd : llm_cost(m->cfg->llm_prices, m->model, u);
    if (cost > 0)
        metrics_add(MET_MODEL_COST, "", cost);
}

static void finish(struct llm_call *c, int ok, const char *reason)
{
    struct llm *m = c->m;
    struct llm_result res = c->res;

    observe_call(c, ok, reason);

    if (c->trial)
        m->half_open_trial = 0;
    if (ok || strcmp(reason, "upstream_refused") == 0) {
        /* A complete reply, text or not: the provider is up. */
        m->consecutive_failures = 0;
        m->open_until_ms = 0;
    } else if (strcmp(reason, "circuit_open") != 0 && strncmp(reason, "refused_", 8) != 0) {
        /* Upstream trouble counts toward the breaker; our own refusals do not. */
        if (++m->consecutive_failures >= m->cfg->breaker_threshold || c->trial) {
            m->open_until_ms = clock_mono_ms() + m->cfg->breaker_cooldown_ms;
            log_event(LOG_WARN, "llm_circuit_open", "reason", reason);
        }
    }
    res.ok = ok;
    if (!ok) {
        snprintf(res.reason, sizeof res.reason, "%s", reason);
        free(res.text);
        res.text = NULL;
        res.truncated = 0;
    }
    c->res.text = NULL;
    c->cb(c->arg, &res);
    call_free(c);
}

static void on_retry(void *arg)
{
    send_now(arg);
}

/* Seconds from a Retry-After value (delta seconds); -1 when absent or unusable. */
static double retry_after_s(const struct http_resp *r)
{
    char *end;
    double v;

    if (r->retry_after[0] == '\0')
        return -1;
    v = strtod(r->retry_after, &end);
    if (end == r->retry_after || v < 0 || !isfinite(v))
        return -1;
    return v > LLM_RETRY_AFTER_MAX_S ? LLM_RETRY_AFTER_MAX_S : v;
}

static void retry_or_finish(struct llm_call *c, const char *reason, double hint_s)
{
    struct llm *m = c->m;
    unsigned r;
    double backoff;

    if (c->res.attempts >= m->cfg->llm_max_attempts) {
        finish(c, 0, reason);
        return;
    }
    backoff = LLM_BACKOFF_BASE_MS * pow(2, c->res.attempts - 1);
    if (backoff > LLM_BACKOFF_MAX_MS)
        backoff = LLM_BACKOFF_MAX_MS;
    crypto_random(&r, sizeof r);
    backoff = backoff / 2 + fmod((double)r, backoff / 2 + 1);   /* jitter */
    if (hint_s >= 0 && hint_s * 1000 > backoff)
        backoff = hint_s * 1000;
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "llm_retry");
        log_str(&l, "reason", reason);
        log_int(&l, "attempt", c->res.attempts);
        log_int(&l, "delay_ms", (int64_t)backoff);
        log_end(&l);
    }
    loop_timer_start(c->retry, (uint64_t)backoff, 0);
}

static int spend_limit(const char *body)
{
    return strstr(body, "usage limit") != NULL || strstr(body, "spend limit") != NULL ||
           strstr(body, "credit balance") != NULL || strstr(body, "insufficient_quota") != NULL;
}

static void on_http(void *arg, const struct http_resp *r)
{
    struct llm_call *c = arg;
    char reason[64];

    c->in_http = 0;
    if (!r->transport_ok) {
        retry_or_finish(c, r->timed_out ? "upstream_timeout" : "upstream_unreachable", -1);
        return;
    }
    if (r->status == 200) {
        switch (llm_reply_parse(c->m->provider, r->body, r->len, &c->res.text,
                                &c->res.truncated, &c->res.usage)) {
        case LLM_REPLY_TEXT:
            finish(c, 1, "");
            break;
        case LLM_REPLY_NO_TEXT:
            /* A complete answer without text (a refusal, a content filter):
             * sent again it answers the same, and each copy is billed. */
            finish(c, 0, "upstream_refused");
            break;
        default:
            retry_or_finish(c, "upstream_malformed", -1);
            break;
        }
        return;
    }
    snprintf(reason, sizeof reason, "upstream_%ld", r->status);
    if (r->status == 429 && spend_limit(r->body)) {
        finish(c, 0, "upstream_spend_limit");
        return;
    }
    if (r->status == 429 || r->status == 529 || r->status >= 500 || r->status == 408) {
        double hint = retry_after_s(r);
        if (hint < 0 && r->reset[0] != '\0')
            hint = 1;   /* an RFC 3339 reset time: wait a little at least */
        retry_or_finish(c, reason, hint);
        return;
    }
    /* 400, 401, 403 and the rest: retrying cannot help. */
    finish(c, 0, reason);
}

static void send_now(struct llm_call *c)
{
    struct llm *m = c->m;
    const char *headers[5];
    int n = 0;
    struct http_req rq;
    struct err e;
    int64_t now = clock_mono_ms();

    if (now < m->open_until_ms) {
        finish(c, 0, "circuit_open");
        return;
    }
    if (m->open_until_ms != 0) {
        /* Half-open: one trial at a time decides whether to close. */
        if (m->half_open_trial && !c->trial) {
            finish(c, 0, "circuit_open");
            return;
        }
        m->half_open_trial = 1;
        c->trial = 1;
    }
    headers[n++] = "Content-Type: application/json";
    if (m->auth_header[0] != '\0')
        headers[n++] = m->auth_header;
    if (m->provider == LLM_ANTHROPIC)
        headers[n++] = "anthropic-version: " ANTHROPIC_VERSION;
    headers[n] = NULL;
    memset(&rq, 0, sizeof rq);
    rq.url = m->url;
    rq.headers = headers;
    rq.body = c->body;
    rq.body_len = c->body_len;
    rq.timeout_ms = m->cfg->llm_timeout_ms;
    rq.connect_timeout_ms = m->cfg->llm_connect_timeout_ms;
    rq.max_response = LLM_RESPONSE_MAX;
    c->res.attempts++;
    if (http_async_post(m->http, &rq, on_http, c, &e) != ERR_OK) {
        retry_or_finish(c, "refused_local", -1);
        return;
    }
    c->in_http = 1;
}

struct llm_call *llm_call(struct llm *m, const char *system, const char *user,
                          int64_t max_tokens, llm_done_cb *cb, void *arg, struct err *e)
{
    struct llm_call *c;

    if (m->provider == LLM_OFFLINE) {
        err_set(e, ERR_CONFIG, "no model configured (offline)");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->m = m;
    c->cb = cb;
    c->arg = arg;
    c->body = build_body(m, system, user, max_tokens);
    c->retry = loop_timer_new(m->loop, on_retry, c);
    if (c->body == NULL || c->retry == NULL) {
        loop_timer_free(c->retry);
        free(c->body);
        free(c);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->body_len = strlen(c->body);
    c->next = m->calls;
    if (m->calls != NULL)
        m->calls->prev = c;
    m->calls = c;
    m->inflight++;
    c->started_ms = clock_mono_ms();
    metrics_set(MET_MODEL_IN_FLIGHT, "", m->inflight);
    /* Started from the loop, so cb never runs inside this call. */
    loop_timer_start(c->retry, 0, 0);
    return c;
}

int llm_cancel(struct llm_call *c, struct llm_usage *spent)
{
    int sending;

    if (c == NULL)
        return 0;
    /* Earlier attempts that were answered (a malformed 200) were billed:
     * their usage goes to the caller, not away with the call. */
    if (spent != NULL)
        llm_usage_add(spent, &c->res.usage);
    sending = c->in_http;
    if (sending)
        http_async_cancel(c->m->http, c);
    /* The trial never reports: another call must be able to make it. */
    if (c->trial)
        c->m->half_open_trial = 0;
    call_free(c);
    return sending;
}

void llm_usage_add(struct llm_usage *to, const struct llm_usage *u)
{
    to->input_tokens += u->input_tokens;
    to->output_tokens += u->output_tokens;
    to->cache_read_tokens += u->cache_read_tokens;
    to->cache_write_tokens += u->cache_write_tokens;
    to->cost_usd += u->cost_usd;
}

int64_t llm_usage_tokens(const struct llm_usage *u)
{
    return u->input_tokens + u->output_tokens + u->cache_read_tokens + u->cache_write_tokens;
}
