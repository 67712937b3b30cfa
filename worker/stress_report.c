/* stress_report.c - a stress test's counters, percentiles and report. */
#include "worker/stress_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Samples allocated first; the array doubles up to max. */
#define TALLY_FIRST_CAP 64

/* Longest latency kept, ms (about 66 minutes: far past any timeout). */
#define TALLY_LATENCY_MAX_MS 4e6

void stress_tally_init(struct stress_tally *t, const char *method, const char *path,
                       size_t max_samples)
{
    memset(t, 0, sizeof *t);
    t->method = method;
    t->path = path;
    t->max = max_samples;
}

void stress_tally_cleanup(struct stress_tally *t)
{
    free(t->latency_us);
    t->latency_us = NULL;
    t->nlat = 0;
    t->cap = 0;
}

void stress_tally_sent(struct stress_tally *t)
{
    t->requests++;
}

int stress_tally_response(struct stress_tally *t, long status, double latency_ms)
{
    t->completed++;
    if (status >= 0 && status < STRESS_STATUS_MAX)
        t->status[status]++;
    if (status >= 400 && status < 500)
        t->client_errors++;
    else if (status >= 500)
        t->server_errors++;
    if (t->nlat == t->max)
        return 0;
    if (t->nlat == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : TALLY_FIRST_CAP;
        uint32_t *p;

        if (cap > t->max)
            cap = t->max;
        p = realloc(t->latency_us, cap * sizeof *p);
        if (p == NULL)
            return -1;
        t->latency_us = p;
        t->cap = cap;
    }
    if (!(latency_ms > 0))          /* NaN too */
        latency_ms = 0;
    if (latency_ms > TALLY_LATENCY_MAX_MS)
        latency_ms = TALLY_LATENCY_MAX_MS;
    t->latency_us[t->nlat++] = (uint32_t)lround(latency_ms * 1000.0);
    return 0;
}

void stress_tally_failure(struct stress_tally *t, int timed_out)
{
    t->transport_errors++;
    if (timed_out)
        t->timeouts++;
}

uint32_t stress_percentile(const uint32_t *sorted, size_t n, int pct)
{
    size_t rank = ((size_t)pct * n + 99) / 100;     /* ceil(pct / 100 * n) */

    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* ---- the report ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static double round_to(double v, double scale)
{
    return round(v * scale) / scale;
}

/* o when ok, else NULL with o deleted. */
static cJSON *kept_or_deleted(cJSON *o, int ok)
{
    if (ok)
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* Adds name: v to o; clears *ok when memory ran out. */
static void add_num(cJSON *o, const char *name, double v, int *ok)
{
    if (cJSON_AddNumberToObject(o, name, v) == NULL)
        *ok = 0;
}

static double rate_of(long part, long whole)
{
    return whole > 0 ? round_to((double)part / (double)whole, 1e4) : 0;
}

/* {"p50", ..., "mean"} in ms over sorted[0..n); members null when n is 0. */
static cJSON *latency_json(const uint32_t *sorted, size_t n)
{
    static const int pcts[] = {50, 90, 95, 99};
    static const char *const names[] = {"p50", "p90", "p95", "p99"};
    cJSON *o = cJSON_CreateObject();
    uint64_t sum = 0;
    int ok = o != NULL;

    if (!ok)
        return NULL;
    if (n == 0) {
        static const char *const all[] = {"p50", "p90", "p95", "p99", "max", "mean"};

        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            ok = ok && cJSON_AddNullToObject(o, all[i]) != NULL;
    } else {
        for (size_t i = 0; i < n; i++)
            sum += sorted[i];
        for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
            add_num(o, names[i], stress_percentile(sorted, n, pcts[i]) / 1000.0, &ok);
        add_num(o, "max", sorted[n - 1] / 1000.0, &ok);
        add_num(o, "mean", round_to((double)sum / (double)n, 1) / 1000.0, &ok);
    }
    return kept_or_deleted(o, ok);
}

/* {"200": n, ...} over the non-zero counts, ascending. */
static cJSON *status_json(const long *status)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;

    for (int s = 0; ok && s < STRESS_STATUS_MAX; s++) {
        char key[16];

        if (status[s] == 0)
            continue;
        snprintf(key, sizeof key, "%d", s);
        add_num(o, key, (double)status[s], &ok);
    }
    return kept_or_deleted(o, ok);
}

/* Adds the members an endpoint and the whole run share, from t (samples
 * sorted); the count of requests sent is named requests_key. */
static void add_counts(cJSON *o, const char *requests_key, const struct stress_tally *t,
                       double duration_s, int *ok)
{
    long errors = t->transport_errors + t->server_errors;
    cJSON *st = status_json(t->status);
    cJSON *lat = latency_json(t->latency_us, t->nlat);

    add_num(o, requests_key, (double)t->requests, ok);
    add_num(o, "completed", (double)t->completed, ok);
    add_num(o, "errors", (double)errors, ok);
    add_num(o, "client_errors", (double)t->client_errors, ok);
    add_num(o, "transport_errors", (double)t->transport_errors, ok);
    add_num(o, "timeouts", (double)t->timeouts, ok);
    add_num(o, "error_rate", rate_of(errors, t->requests), ok);
    add_num(o, "throughput_rps",
            duration_s > 0 ? round_to((double)t->completed / duration_s, 100) : 0, ok);
    if (st == NULL || !cJSON_AddItemToObject(o, "status_counts", st)) {
        cJSON_Delete(st);
        *ok = 0;
    }
    if (lat == NULL || !cJSON_AddItemToObject(o, "latency_ms", lat)) {
        cJSON_Delete(lat);
        *ok = 0;
    }
}

/* Appends {"method", "path"} of t to array a; NULL (with *ok cleared) when
 * memory ran out. */
static cJSON *add_endpoint(cJSON *a, const struct stress_tally *t, int *ok)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || !cJSON_AddItemToArray(a, o)) {
        cJSON_Delete(o);
        *ok = 0;
        return NULL;
    }
    if (cJSON_AddStringToObject(o, "method", t->method) == NULL ||
        cJSON_AddStringToObject(o, "path", t->path) == NULL)
        *ok = 0;
    return o;
}

/* The sum of every tally, with every sample (owns them: cleanup). */
static int merge(const struct stress_tally *t, size_t n, struct stress_tally *all)
{
    size_t total = 0;

    memset(all, 0, sizeof *all);
    for (size_t i = 0; i < n; i++)
        total += t[i].nlat;
    all->latency_us = malloc((total ? total : 1) * sizeof *all->latency_us);
    if (all->latency_us == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        all->requests += t[i].requests;
        all->completed += t[i].completed;
        all->client_errors += t[i].client_errors;
        all->server_errors += t[i].server_errors;
        all->transport_errors += t[i].transport_errors;
        all->timeouts += t[i].timeouts;
        for (int s = 0; s < STRESS_STATUS_MAX; s++)
            all->status[s] += t[i].status[s];
        if (t[i].nlat > 0)
            memcpy(all->latency_us + all->nlat, t[i].latency_us,
                   t[i].nlat * sizeof *all->latency_us);
        all->nlat += t[i].nlat;
    }
    all->cap = all->max = total;
    qsort(all->latency_us, all->nlat, sizeof *all->latency_us, cmp_u32);
    return 0;
}

/* Up to STRESS_SLOWEST_MAX endpoints with responses, by p95, slowest first
 * (the earlier endpoint first on a tie). */
static cJSON *slowest_json(const struct stress_tally *t, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    int taken[STRESS_SLOWEST_MAX];
    int ok = a != NULL, ntaken = 0;

    while (ok && ntaken < STRESS_SLOWEST_MAX) {
        int best = -1;
        uint32_t best_p95 = 0;
        cJSON *o;

        for (size_t i = 0; i < n; i++) {
            uint32_t p95;
            int seen = 0;

            for (int k = 0; k < ntaken; k++)
                seen |= taken[k] == (int)i;
            if (seen || t[i].nlat == 0)
                continue;
            p95 = stress_percentile(t[i].latency_us, t[i].nlat, 95);
            if (best < 0 || p95 > best_p95) {
                best = (int)i;
                best_p95 = p95;
            }
        }
        if (best < 0)
            break;
        taken[ntaken++] = best;
        if ((o = add_endpoint(a, &t[best], &ok)) != NULL)
            add_num(o, "p95_ms", best_p95 / 1000.0, &ok);
    }
    return kept_or_deleted(a, ok);
}

cJSON *stress_report_json(const char *base_url, double duration_s, const char *stopped,
                          struct stress_tally *t, size_t n)
{
    struct stress_tally all;
    cJSON *r, *eps, *slow;
    int ok;

    for (size_t i = 0; i < n; i++)
        if (t[i].nlat > 0)
            qsort(t[i].latency_us, t[i].nlat, sizeof *t[i].latency_us, cmp_u32);
    if (merge(t, n, &all) != 0)
        return NULL;
    r = cJSON_CreateObject();
    ok = r != NULL && cJSON_AddStringToObject(r, "base_url", base_url) != NULL;
    if (ok) {
        add_num(r, "duration_s", round_to(duration_s, 1e3), &ok);
        add_counts(r, "requests_sent", &all, duration_s, &ok);
    }
    eps = ok ? cJSON_AddArrayToObject(r, "endpoints") : NULL;
    ok = eps != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *o = add_endpoint(eps, &t[i], &ok);

        if (o != NULL)
            add_counts(o, "requests", &t[i], duration_s, &ok);
    }
    slow = ok ? slowest_json(t, n) : NULL;
    if (slow == NULL || !cJSON_AddItemToObject(r, "slowest", slow)) {
        cJSON_Delete(slow);
        ok = 0;
    }
    ok = ok && cJSON_AddStringToObject(r, "stopped", stopped) != NULL;
    stress_tally_cleanup(&all);
    return kept_or_deleted(r, ok);
}
