/* test_metrics.c - unit tests for common/metrics.c, linked against it alone:
 * the exact exposition text of each metric type, label escaping and caps,
 * the process filter, and exact totals under concurrent updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/metrics.h"

#define PROC_A 0x1u
#define PROC_B 0x2u

enum { T_JOBS, T_INFLIGHT, T_LATENCY, T_OTHER, T_EMPTY, T__COUNT };

static const double latency_buckets[] = {0.125, 1};
static const char *const jobs_preset[] = {"kind=\"a\"", NULL};

static const struct metric_def defs[T__COUNT] = {
    [T_JOBS] = {"t_jobs_total", METRIC_COUNTER, "Jobs done.", NULL, 0, PROC_A, jobs_preset},
    [T_INFLIGHT] = {"t_in_flight", METRIC_GAUGE, "In flight.\nSecond line \\ here.", NULL, 0,
                    0, NULL},
    [T_LATENCY] = {"t_latency_seconds", METRIC_HISTOGRAM, "Latency.", latency_buckets, 2,
                   PROC_A, NULL},
    [T_OTHER] = {"t_other_total", METRIC_COUNTER, "Another process's.", NULL, 0, PROC_B,
                 jobs_preset},
    [T_EMPTY] = {"t_empty_total", METRIC_COUNTER, "Never used.", NULL, 0, PROC_A, NULL},
};

static int setup(void **state)
{
    struct err e;

    (void)state;
    assert_int_equal(metrics_init(defs, T__COUNT, PROC_A, &e), ERR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    metrics_cleanup();
    return 0;
}

static void assert_render(const char *want)
{
    char *text = metrics_render();

    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
}

static void test_counter_text(void **state)
{
    (void)state;
    metrics_inc(T_JOBS, "kind=\"a\"");
    metrics_inc(T_JOBS, "kind=\"a\"");
    metrics_add(T_JOBS, "kind=\"a\"", 1);
    metrics_add(T_JOBS, "kind=\"b\"", 1.5);
    metrics_add(T_JOBS, "kind=\"b\"", -7);          /* ignored: counters only grow */
    assert_render("# HELP t_jobs_total Jobs done.\n"
                  "# TYPE t_jobs_total counter\n"
                  "t_jobs_total{kind=\"a\"} 3\n"
                  "t_jobs_total{kind=\"b\"} 1.5\n");
}

/* A preset series reads 0 before its first event; an unused family and
 * another process's family are not rendered. */
static void test_preset_and_filter(void **state)
{
    (void)state;
    assert_null(metrics_get(T_OTHER, "kind=\"a\""));
    metrics_inc(T_OTHER, "kind=\"a\"");             /* disabled: a no-op */
    assert_render("# HELP t_jobs_total Jobs done.\n"
                  "# TYPE t_jobs_total counter\n"
                  "t_jobs_total{kind=\"a\"} 0\n");
}

static void test_gauge_text(void **state)
{
    (void)state;
    metrics_set(T_INFLIGHT, "", 5);
    metrics_add(T_INFLIGHT, "", -7);
    metrics_set(T_INFLIGHT, "pool=\"x\"", 0.25);
    metric_clear(metrics_get(T_INFLIGHT, "pool=\"x\""));
    assert_render("# HELP t_jobs_total Jobs done.\n"
                  "# TYPE t_jobs_total counter\n"
                  "t_jobs_total{kind=\"a\"} 0\n"
                  "# HELP t_in_flight In flight.\\nSecond line \\\\ here.\n"
                  "# TYPE t_in_flight gauge\n"
                  "t_in_flight -2\n");
    /* Set again, a cleared series shows again. */
    metrics_set(T_INFLIGHT, "pool=\"x\"", 0.25);
    metric_clear(metrics_get(T_INFLIGHT, ""));
    assert_render("# HELP t_jobs_total Jobs done.\n"
                  "# TYPE t_jobs_total counter\n"
                  "t_jobs_total{kind=\"a\"} 0\n"
                  "# HELP t_in_flight In flight.\\nSecond line \\\\ here.\n"
                  "# TYPE t_in_flight gauge\n"
                  "t_in_flight{pool=\"x\"} 0.25\n");
}

static void test_histogram_text(void **state)
{
    (void)state;
    metrics_observe(T_LATENCY, "route=\"/x\"", 0.0625);     /* le 0.125 */
    metrics_observe(T_LATENCY, "route=\"/x\"", 0.125);      /* le 0.125: bounds are inclusive */
    metrics_observe(T_LATENCY, "route=\"/x\"", 0.5);        /* le 1 */
    metrics_observe(T_LATENCY, "route=\"/x\"", 4);          /* +Inf */
    metrics_observe(T_LATENCY, "", 1);
    metrics_inc(T_LATENCY, "");                             /* not a counter: ignored */
    metrics_set(T_LATENCY, "", 9);                          /* not a gauge: ignored */
    assert_render("# HELP t_jobs_total Jobs done.\n"
                  "# TYPE t_jobs_total counter\n"
                  "t_jobs_total{kind=\"a\"} 0\n"
                  "# HELP t_latency_seconds Latency.\n"
                  "# TYPE t_latency_seconds histogram\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"0.125\"} 2\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
                  "t_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                  "t_latency_seconds_sum{route=\"/x\"} 4.6875\n"
                  "t_latency_seconds_count{route=\"/x\"} 4\n"
                  "t_latency_seconds_bucket{le=\"0.125\"} 0\n"
                  "t_latency_seconds_bucket{le=\"1\"} 1\n"
                  "t_latency_seconds_bucket{le=\"+Inf\"} 1\n"
                  "t_latency_seconds_sum 1\n"
                  "t_latency_seconds_count 1\n");
}

static void test_labels(void **state)
{
    char out[64], tiny[12];
    (void)state;

    assert_int_equal(metrics_labels(out, sizeof out, "route", "/job/:id", "status", "200",
                                    NULL), 0);
    assert_string_equal(out, "route=\"/job/:id\",status=\"200\"");
    assert_int_equal(metrics_labels(out, sizeof out, "v", "a\"b\\c\nd", NULL), 0);
    assert_string_equal(out, "v=\"a\\\"b\\\\c\\nd\"");
    assert_int_equal(metrics_labels(out, sizeof out, NULL), 0);
    assert_string_equal(out, "");
    /* Exactly full, then one byte short. */
    assert_int_equal(metrics_labels(tiny, sizeof tiny, "k", "1234567", NULL), 0);
    assert_string_equal(tiny, "k=\"1234567\"");
    assert_int_equal(metrics_labels(tiny, sizeof tiny, "k", "12345678", NULL), -1);
    assert_string_equal(tiny, "");
    assert_int_equal(metrics_labels(tiny, sizeof tiny, "k", "1", "other", "2", NULL), -1);
    assert_string_equal(tiny, "");
}

/* Label strings over the cap, unknown families, NULL series and too many
 * series are refused without harm. */
static void test_caps(void **state)
{
    char big[METRIC_LABELS_MAX + 2], labels[32];
    (void)state;

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_null(metrics_get(T_JOBS, big));
    big[METRIC_LABELS_MAX] = '\0';
    assert_non_null(metrics_get(T_JOBS, big));
    assert_null(metrics_get(-1, ""));
    assert_null(metrics_get(T__COUNT, ""));
    assert_null(metrics_get(T_JOBS, NULL));
    metric_inc(NULL);
    metric_add(NULL, 1);
    metric_set(NULL, 1);
    metric_clear(NULL);
    metric_observe(NULL, 1);

    for (int i = 0; i < METRIC_SERIES_MAX + 10; i++) {
        snprintf(labels, sizeof labels, "n=\"%d\"", i);
        metrics_inc(T_INFLIGHT, labels);
    }
    assert_non_null(metrics_get(T_INFLIGHT, "n=\"0\""));
    assert_null(metrics_get(T_INFLIGHT, "n=\"600\""));
    snprintf(labels, sizeof labels, "n=\"%d\"", METRIC_SERIES_MAX - 1);
    assert_non_null(metrics_get(T_INFLIGHT, labels));
    snprintf(labels, sizeof labels, "n=\"%d\"", METRIC_SERIES_MAX);
    assert_null(metrics_get(T_INFLIGHT, labels));
}

/* Without metrics_init every lookup is NULL and rendering is empty. */
static void test_uninitialised(void **state)
{
    char *text;
    (void)state;

    metrics_cleanup();
    assert_null(metrics_get(T_JOBS, "kind=\"a\""));
    metrics_inc(T_JOBS, "kind=\"a\"");
    text = metrics_render();
    assert_non_null(text);
    assert_string_equal(text, "");
    free(text);
}

static void test_bad_tables(void **state)
{
    static const double unsorted[] = {1, 0.5};
    const struct metric_def bad_hist[] = {
        {"h_seconds", METRIC_HISTOGRAM, "H.", unsorted, 2, 0, NULL}};
    const struct metric_def no_buckets[] = {
        {"h_seconds", METRIC_HISTOGRAM, "H.", NULL, 0, 0, NULL}};
    struct err e;
    (void)state;

    assert_int_equal(metrics_init(bad_hist, 1, PROC_A, &e), ERR_CONFIG);
    assert_int_equal(metrics_init(no_buckets, 1, PROC_A, &e), ERR_CONFIG);
    assert_int_equal(metrics_init(defs, METRIC_FAMILIES_MAX + 1, PROC_A, &e), ERR_CONFIG);
    assert_null(metrics_get(0, ""));
}

/* ---- concurrency ---- */

#define THREADS 4
#define PER_THREAD 100000

static void *hammer(void *arg)
{
    struct metric *total = metrics_get(T_JOBS, "kind=\"a\"");
    char labels[32];

    for (int i = 0; i < PER_THREAD; i++) {
        metric_inc(total);
        /* Dynamic series: every thread races to create the same ten. */
        snprintf(labels, sizeof labels, "n=\"%d\"", i % 10);
        metrics_inc(T_JOBS, labels);
        metrics_observe(T_LATENCY, "", (i % 2) ? 0.5 : 0.0625);
        metrics_add(T_INFLIGHT, "", 1);
        metrics_add(T_INFLIGHT, "", -1);
        if (i % 20000 == 0)
            free(metrics_render());     /* a scrape while updates run */
    }
    (void)arg;
    return NULL;
}

/* The value of a sample line "series value". */
static double value_of(const char *text, const char *series)
{
    char want[96];
    const char *p;

    snprintf(want, sizeof want, "\n%s ", series);
    p = strstr(text, want);
    assert_non_null(p);
    return strtod(p + strlen(want), NULL);
}

static void test_concurrent_updates(void **state)
{
    pthread_t t[THREADS];
    int ids[THREADS];
    char *text, series[32];
    double sum = 0;
    (void)state;

    for (int i = 0; i < THREADS; i++) {
        ids[i] = i;
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &ids[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);

    text = metrics_render();
    assert_non_null(text);
    assert_int_equal((long)value_of(text, "t_jobs_total{kind=\"a\"}"), THREADS * PER_THREAD);
    for (int k = 0; k < 10; k++) {
        snprintf(series, sizeof series, "t_jobs_total{n=\"%d\"}", k);
        assert_int_equal((long)value_of(text, series), THREADS * PER_THREAD / 10);
        /* Created once, however many threads raced for it. */
        assert_null(strstr(strstr(text, series) + 1, series));
    }
    assert_int_equal((long)value_of(text, "t_latency_seconds_count"), THREADS * PER_THREAD);
    assert_int_equal((long)value_of(text, "t_latency_seconds_bucket{le=\"0.125\"}"),
                     THREADS * PER_THREAD / 2);
    sum = value_of(text, "t_latency_seconds_sum");
    /* 0.0625 and 0.5 are exact in binary: so is the sum. */
    assert_true(sum == (0.0625 + 0.5) * THREADS * PER_THREAD / 2);
    assert_true(value_of(text, "t_in_flight") == 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preset_and_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gauge_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_histogram_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uninitialised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_updates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
