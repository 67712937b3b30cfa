/* stress.c - the stress-test engine on the loop. */
#include "worker/stress.h"

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/loop.h"
#include "common/stress_spec.h"
#include "common/target_policy.h"
#include "common/utf8.h"
#include "worker/stress_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one request's URL, with its NUL. */
#define STRESS_FULL_URL_MAX (STRESS_URL_MAX + STRESS_PATH_MAX + 1)

/* One request of the spec, ready to send. */
struct stress_endpoint {
    char *url;                                  /* owns */
    char *lines[STRESS_HEADERS_MAX];            /* owns: "Name: value" or "Name;" */
    const char *headers[STRESS_HEADERS_MAX + 1];/* borrows lines; NULL-terminated */
    size_t body_len;
    long current;                               /* smooth weighted round-robin */
};

/* A request in flight: one of spec->concurrency slots. */
struct stress_call {
    struct stress *s;
    int endpoint;
    struct stress_call *next_free;
};

struct stress {
    struct loop *loop;
    const struct config *cfg;
    const struct stress_spec *spec;
    const struct target_policy *policy;
    stress_done_cb *cb;
    void *arg;
    struct http_async *http;        /* owns; NULL until the targets passed */
    struct loop_timer *pace;        /* owns: next request due, or the deadline */
    struct loop_timer *finish;      /* owns: ends the run outside libcurl's callbacks */
    struct stress_endpoint ep[STRESS_REQUESTS_MAX];
    struct stress_tally tally[STRESS_REQUESTS_MAX];
    struct stress_call *calls;      /* owns spec->concurrency slots */
    struct stress_call *free_calls;
    long total_weight;
    long sent;
    long inflight;
    int64_t t0_us, end_us;          /* monotonic: start, and when sending stops */
    int64_t done_us;                /* when the last response arrived */
    const char *stopped;            /* "duration" | "max_requests"; NULL while sending */
    int finishing;                  /* the finish timer is due: ignore the rest */
    int rc;
    struct err err;
};

static void stress_free(struct stress *s)
{
    http_async_free(s->http);
    loop_timer_free(s->pace);
    loop_timer_free(s->finish);
    for (int i = 0; i < STRESS_REQUESTS_MAX; i++) {
        free(s->ep[i].url);
        for (int k = 0; k < STRESS_HEADERS_MAX; k++)
            free(s->ep[i].lines[k]);
        stress_tally_cleanup(&s->tally[i]);
    }
    free(s->calls);
    free(s);
}

/* Ends the run on the next loop turn, with s->rc. */
static void finish_soon(struct stress *s)
{
    if (s->finishing)
        return;
    s->finishing = 1;
    s->done_us = clock_mono_us();
    loop_timer_stop(s->pace);
    loop_timer_start(s->finish, 0, 0);
}

/* Stops the run at once with rc and a printf-style message. */
static void abort_run(struct stress *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void abort_run(struct stress *s, int rc, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    utf8_vfmt(msg, sizeof msg, fmt, ap);    /* a cut message is still readable, and UTF-8 */
    va_end(ap);
    s->rc = rc;
    err_set(&s->err, rc, "%s", msg);
    finish_soon(s);
}

static void on_finish(void *arg)
{
    struct stress *s = arg;
    stress_done_cb *cb = s->cb;
    void *cb_arg = s->arg;
    cJSON *report = NULL;
    struct err e = s->err;
    int rc = s->rc;

    /* Aborts whatever is still in flight; their callbacks do not run. */
    http_async_free(s->http);
    s->http = NULL;
    if (rc == ERR_OK) {
        report = stress_report_json(s->spec->base_url, (double)(s->done_us - s->t0_us) / 1e6,
                                    s->stopped, s->tally, (size_t)s->spec->nrequests);
        if (report == NULL)
            rc = err_set(&e, ERR_INTERNAL, "out of memory");
    }
    stress_free(s);
    cb(cb_arg, rc, &e, report);
}

/* The next endpoint: the one furthest behind its share of the weights. */
static int pick(struct stress *s)
{
    int best = 0;

    for (int i = 0; i < s->spec->nrequests; i++) {
        s->ep[i].current += s->spec->requests[i].weight;
        if (s->ep[i].current > s->ep[best].current)
            best = i;
    }
    s->ep[best].current -= s->total_weight;
    return best;
}

static int addr_check(void *arg, const struct sockaddr *addr, size_t len, struct err *e)
{
    return target_policy_check_addr(arg, addr, len, e);
}

static void pump(struct stress *s);

static void on_response(void *arg, const struct http_resp *r)
{
    struct stress_call *c = arg;
    struct stress *s = c->s;
    struct stress_tally *t = &s->tally[c->endpoint];
    struct err pe;

    c->next_free = s->free_calls;
    s->free_calls = c;
    s->inflight--;
    if (s->finishing)
        return;
    if (r->addr_refused) {
        abort_run(s, ERR_TARGET_NOT_ALLOWED, "connection refused: %s", r->refused);
        return;
    }
    if (!r->transport_ok) {
        stress_tally_failure(t, r->timed_out);
    } else {
        if (r->status >= 300 && r->status < 400 && r->location != NULL &&
            target_policy_check_url(s->policy, r->location, &pe) != ERR_OK) {
            char where[128];

            /* The target's URL, cut: the message must stay readable. */
            snprintf(where, sizeof where, "%.*s%s", utf8_prec(r->location, 100), r->location,
                     strlen(r->location) > 100 ? "..." : "");
            abort_run(s, ERR_TARGET_NOT_ALLOWED, "redirect to %s refused: %s", where, pe.msg);
            return;
        }
        if (stress_tally_response(t, r->status, r->seconds * 1000.0) != 0) {
            abort_run(s, ERR_INTERNAL, "out of memory");
            return;
        }
    }
    pump(s);
}

/* Sends the next request; returns 0, or -1 when the run was aborted. */
static int send_one(struct stress *s)
{
    struct stress_call *c = s->free_calls;
    int i = pick(s);
    const struct stress_request *q = &s->spec->requests[i];
    struct http_req rq = {
        .url = s->ep[i].url,
        .headers = s->ep[i].headers,
        .body = q->body,
        .body_len = s->ep[i].body_len,
        .timeout_ms = s->cfg->stress_timeout_ms,
        .connect_timeout_ms = s->cfg->stress_timeout_ms,
        .method = q->method,
        .discard_body = 1,
        .addr_check = addr_check,
        .addr_check_arg = (void *)s->policy,
    };
    struct err e;

    c->endpoint = i;
    if (http_async_request(s->http, &rq, on_response, c, &e) != ERR_OK) {
        abort_run(s, e.code, "%s", e.msg);
        return -1;
    }
    s->free_calls = c->next_free;
    s->sent++;
    s->inflight++;
    stress_tally_sent(&s->tally[i]);
    return 0;
}

/* When request k is due: k / rate seconds after the start. */
static int64_t due_us(const struct stress *s, long k)
{
    return s->t0_us + (int64_t)k * 1000000 / s->spec->rate;
}

/* Sends what is due, within the caps; ends the run when sending is over
 * and nothing is in flight; else wakes up for the next due request. */
static void pump(struct stress *s)
{
    int64_t now = clock_mono_us();
    int64_t next;

    if (s->finishing)
        return;
    while (s->stopped == NULL) {
        if (s->sent >= s->spec->max_requests)
            s->stopped = "max_requests";
        else if (now >= s->end_us)
            s->stopped = "duration";
        else if (s->inflight >= s->spec->concurrency || due_us(s, s->sent) > now)
            break;
        else if (send_one(s) != 0)
            return;
    }
    if (s->stopped != NULL) {
        loop_timer_stop(s->pace);
        if (s->inflight == 0)
            finish_soon(s);
        return;
    }
    /* At full concurrency a response wakes us; the deadline must too. */
    next = s->end_us;
    if (s->inflight < s->spec->concurrency && due_us(s, s->sent) < next)
        next = due_us(s, s->sent);
    loop_timer_start(s->pace, (uint64_t)((next - now + 999) / 1000), 0);
}

static void on_pace(void *arg)
{
    pump(arg);
}

/* Checks every URL against the policy; ERR_OK or the refusal in e. */
static int check_targets(struct stress *s, struct err *e)
{
    char url[STRESS_FULL_URL_MAX];
    int rc = target_policy_check_url(s->policy, s->spec->base_url, e);

    for (int i = 0; rc == ERR_OK && i < s->spec->nrequests; i++) {
        if (stress_spec_url(s->spec, i, url, sizeof url) != 0)
            return err_set(e, ERR_INTERNAL, "request URL over %d bytes", STRESS_FULL_URL_MAX);
        rc = target_policy_check_url(s->policy, url, e);
    }
    return rc;
}

/* URLs, header lines, tallies and call slots; 0 or -1 (out of memory). */
static int prepare(struct stress *s)
{
    const struct stress_spec *spec = s->spec;
    char url[STRESS_FULL_URL_MAX];

    s->calls = calloc((size_t)spec->concurrency, sizeof *s->calls);
    if (s->calls == NULL)
        return -1;
    for (long k = 0; k < spec->concurrency; k++) {
        s->calls[k].s = s;
        s->calls[k].next_free = s->free_calls;
        s->free_calls = &s->calls[k];
    }
    for (int i = 0; i < spec->nrequests; i++) {
        const struct stress_request *q = &spec->requests[i];
        struct stress_endpoint *ep = &s->ep[i];

        stress_tally_init(&s->tally[i], q->method, q->path, (size_t)spec->max_requests);
        s->total_weight += q->weight;
        ep->body_len = q->body != NULL ? strlen(q->body) : 0;
        if (stress_spec_url(spec, i, url, sizeof url) != 0 || (ep->url = strdup(url)) == NULL)
            return -1;
        for (int k = 0; k < q->nheaders; k++) {
            const struct stress_header *h = &q->headers[k];
            size_t n = strlen(h->name) + strlen(h->value) + 3;

            ep->lines[k] = malloc(n);
            if (ep->lines[k] == NULL)
                return -1;
            /* "Name:" alone would make libcurl drop the header. */
            if (h->value[0] == '\0')
                snprintf(ep->lines[k], n, "%s;", h->name);
            else
                snprintf(ep->lines[k], n, "%s: %s", h->name, h->value);
            ep->headers[k] = ep->lines[k];
        }
        ep->headers[q->nheaders] = NULL;
    }
    return 0;
}

struct stress *stress_start(struct loop *loop, const struct config *cfg,
                            const struct stress_spec *spec, const struct target_policy *policy,
                            stress_done_cb *cb, void *arg, struct err *e)
{
    struct stress *s;

    /* Checks before allocating what the spec sizes. */
    if (spec->nrequests < 1 || spec->nrequests > STRESS_REQUESTS_MAX || spec->rate < 1 ||
        spec->duration_s < 1 || spec->concurrency < 1 ||
        spec->concurrency > cfg->stress_max_concurrency || spec->max_requests < 1 ||
        spec->max_requests > cfg->stress_max_requests) {
        err_set(e, ERR_INTERNAL, "stress spec outside the configured caps");
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->cfg = cfg;
    s->spec = spec;
    s->policy = policy;
    s->cb = cb;
    s->arg = arg;
    s->pace = loop_timer_new(loop, on_pace, s);
    s->finish = loop_timer_new(loop, on_finish, s);
    if (s->pace == NULL || s->finish == NULL) {
        stress_free(s);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->rc = check_targets(s, &s->err);
    if (s->rc != ERR_OK) {
        finish_soon(s);     /* refused: cb from the loop, nothing sent */
        return s;
    }
    if (prepare(s) != 0 || (s->http = http_async_new(loop, e)) == NULL) {
        stress_free(s);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->t0_us = clock_mono_us();
    s->end_us = s->t0_us + (int64_t)spec->duration_s * 1000000;
    loop_timer_start(s->pace, 0, 0);
    return s;
}

void stress_cancel(struct stress *s)
{
    if (s == NULL)
        return;
    stress_free(s);
}
