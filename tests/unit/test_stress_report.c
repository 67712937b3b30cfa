/* test_stress_report.c - unit tests for worker/stress_report.c: nearest-rank
 * percentiles, counters, error rates and the report's shape, on inputs whose
 * every number is computed by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "tests/unit/jsonassert.h"
#include "worker/stress_report.h"

static void expect_latency(const cJSON *lat, double p50, double p90, double p95, double p99,
                           double max, double mean)
{
    assert_true(ja_num(lat, "p50") == p50);
    assert_true(ja_num(lat, "p90") == p90);
    assert_true(ja_num(lat, "p95") == p95);
    assert_true(ja_num(lat, "p99") == p99);
    assert_true(ja_num(lat, "max") == max);
    assert_true(ja_num(lat, "mean") == mean);
}

static void test_percentiles(void **state)
{
    uint32_t a[200];
    (void)state;

    /* 1..10: pN is the ceil(N/10)th sample. */
    for (uint32_t i = 0; i < 10; i++)
        a[i] = i + 1;
    assert_int_equal(stress_percentile(a, 10, 50), 5);
    assert_int_equal(stress_percentile(a, 10, 90), 9);
    assert_int_equal(stress_percentile(a, 10, 95), 10);     /* rank ceil(9.5) = 10 */
    assert_int_equal(stress_percentile(a, 10, 99), 10);
    assert_int_equal(stress_percentile(a, 10, 100), 10);
    assert_int_equal(stress_percentile(a, 10, 1), 1);
    assert_int_equal(stress_percentile(a, 10, 10), 1);
    assert_int_equal(stress_percentile(a, 10, 11), 2);      /* rank ceil(1.1) = 2 */

    /* 10 20 30 40: p50 rank 2; p90 rank ceil(3.6) = 4. */
    for (uint32_t i = 0; i < 4; i++)
        a[i] = 10 * (i + 1);
    assert_int_equal(stress_percentile(a, 4, 50), 20);
    assert_int_equal(stress_percentile(a, 4, 90), 40);
    assert_int_equal(stress_percentile(a, 4, 25), 10);
    assert_int_equal(stress_percentile(a, 4, 26), 20);

    /* One sample is every percentile. */
    a[0] = 7;
    assert_int_equal(stress_percentile(a, 1, 1), 7);
    assert_int_equal(stress_percentile(a, 1, 99), 7);

    /* 1..200: p99 rank 198, p50 rank 100. */
    for (uint32_t i = 0; i < 200; i++)
        a[i] = i + 1;
    assert_int_equal(stress_percentile(a, 200, 99), 198);
    assert_int_equal(stress_percentile(a, 200, 50), 100);
    assert_int_equal(stress_percentile(a, 100, 95), 95);
}

static void test_tally_counts(void **state)
{
    struct stress_tally t;
    (void)state;

    stress_tally_init(&t, "GET", "/a", 3);
    for (int i = 0; i < 6; i++)
        stress_tally_sent(&t);
    assert_int_equal(stress_tally_response(&t, 200, 1.0), 0);
    assert_int_equal(stress_tally_response(&t, 404, 2.0), 0);
    assert_int_equal(stress_tally_response(&t, 503, 3.0), 0);
    assert_int_equal(stress_tally_response(&t, 200, 4.0), 0);     /* past max: not kept */
    stress_tally_failure(&t, 1);
    stress_tally_failure(&t, 0);
    assert_int_equal(t.requests, 6);
    assert_int_equal(t.completed, 4);
    assert_int_equal(t.client_errors, 1);
    assert_int_equal(t.server_errors, 1);
    assert_int_equal(t.transport_errors, 2);
    assert_int_equal(t.timeouts, 1);
    assert_int_equal(t.status[200], 2);
    assert_int_equal(t.status[404], 1);
    assert_int_equal(t.status[503], 1);
    assert_int_equal(t.nlat, 3);
    assert_int_equal(t.latency_us[0], 1000);
    assert_int_equal(t.latency_us[2], 3000);

    /* Odd inputs neither crash nor count twice. */
    assert_int_equal(stress_tally_response(&t, 1000, -5.0), 0);
    assert_int_equal(stress_tally_response(&t, -1, 0.0), 0);
    assert_int_equal(t.completed, 6);
    stress_tally_cleanup(&t);
    stress_tally_cleanup(&t);

    /* Samples round to the microsecond and are clamped. */
    stress_tally_init(&t, "GET", "/b", 10);
    stress_tally_response(&t, 200, 0.0004);
    stress_tally_response(&t, 200, 12.3456);
    stress_tally_response(&t, 200, 1e12);
    assert_int_equal(t.latency_us[0], 0);
    assert_int_equal(t.latency_us[1], 12346);
    assert_int_equal(t.latency_us[2], 4000000000u);
    stress_tally_cleanup(&t);
}

/*
 * Endpoint A (GET /a): 8 sent; responses 200 x4 at 10 20 30 40 ms, 404 at
 * 50 ms, 500 at 60 ms; one timeout, one connection error.
 *   completed 6, errors 1 + 2 = 3, error rate 3/8 = 0.375, client errors 1
 *   sorted 10 20 30 40 50 60: p50 rank 3 = 30; p90 rank ceil(5.4) = 6 = 60;
 *   p95 = p99 = max = 60; mean 210 / 6 = 35
 * Endpoint B (POST /b): 2 sent; 200 at 5 and 15 ms.
 *   p50 rank 1 = 5; p90 .. max = 15; mean 10; error rate 0
 * Endpoint C (GET /c): 1 sent, connection error: no latency, rate 1.
 * Run of 2 s:
 *   sent 11, completed 8, errors 4, error rate 4/11 = 0.3636 (4 places)
 *   throughput 8/2 = 4; A 6/2 = 3; B 2/2 = 1; C 0
 *   all samples 5 10 15 20 30 40 50 60: p50 rank 4 = 20; p90 rank ceil(7.2)
 *   = 8 = 60; mean 230 / 8 = 28.75
 *   slowest: A (p95 60), B (p95 15); C has no responses
 */
static void test_report(void **state)
{
    struct stress_tally t[3];
    const double a_ms[] = {10, 20, 30, 40};
    const cJSON *eps, *e, *slow, *st;
    cJSON *r;
    (void)state;

    stress_tally_init(&t[0], "GET", "/a", 100);
    stress_tally_init(&t[1], "POST", "/b", 100);
    stress_tally_init(&t[2], "GET", "/c", 100);
    for (int i = 0; i < 8; i++)
        stress_tally_sent(&t[0]);
    /* Out of order: the report sorts. */
    stress_tally_response(&t[0], 500, 60);
    for (int i = 3; i >= 0; i--)
        stress_tally_response(&t[0], 200, a_ms[i]);
    stress_tally_response(&t[0], 404, 50);
    stress_tally_failure(&t[0], 1);
    stress_tally_failure(&t[0], 0);
    stress_tally_sent(&t[1]);
    stress_tally_sent(&t[1]);
    stress_tally_response(&t[1], 200, 15);
    stress_tally_response(&t[1], 200, 5);
    stress_tally_sent(&t[2]);
    stress_tally_failure(&t[2], 0);

    r = stress_report_json("http://api.example.com", 2.0, "duration", t, 3);
    assert_non_null(r);
    assert_string_equal(json_str(r, "base_url"), "http://api.example.com");
    assert_string_equal(json_str(r, "stopped"), "duration");
    assert_true(ja_num(r, "duration_s") == 2.0);
    assert_true(ja_num(r, "requests_sent") == 11);
    assert_true(ja_num(r, "completed") == 8);
    assert_true(ja_num(r, "errors") == 4);
    assert_true(ja_num(r, "client_errors") == 1);
    assert_true(ja_num(r, "transport_errors") == 3);
    assert_true(ja_num(r, "timeouts") == 1);
    assert_true(ja_num(r, "error_rate") == 0.3636);
    assert_true(ja_num(r, "throughput_rps") == 4);
    expect_latency(ja_member(r, "latency_ms"), 20, 60, 60, 60, 60, 28.75);
    st = ja_member(r, "status_counts");
    assert_int_equal(cJSON_GetArraySize(st), 3);
    assert_true(ja_num(st, "200") == 6);
    assert_true(ja_num(st, "404") == 1);
    assert_true(ja_num(st, "500") == 1);
    /* Ascending status order. */
    assert_string_equal(st->child->string, "200");
    assert_null(cJSON_GetObjectItemCaseSensitive(r, "requests"));

    eps = ja_member(r, "endpoints");
    assert_int_equal(cJSON_GetArraySize(eps), 3);
    e = cJSON_GetArrayItem(eps, 0);
    assert_string_equal(json_str(e, "method"), "GET");
    assert_string_equal(json_str(e, "path"), "/a");
    assert_true(ja_num(e, "requests") == 8);
    assert_true(ja_num(e, "completed") == 6);
    assert_true(ja_num(e, "errors") == 3);
    assert_true(ja_num(e, "client_errors") == 1);
    assert_true(ja_num(e, "transport_errors") == 2);
    assert_true(ja_num(e, "timeouts") == 1);
    assert_true(ja_num(e, "error_rate") == 0.375);
    assert_true(ja_num(e, "throughput_rps") == 3);
    expect_latency(ja_member(e, "latency_ms"), 30, 60, 60, 60, 60, 35);
    assert_true(ja_num(ja_member(e, "status_counts"), "200") == 4);

    e = cJSON_GetArrayItem(eps, 1);
    assert_string_equal(json_str(e, "method"), "POST");
    assert_true(ja_num(e, "error_rate") == 0);
    assert_true(ja_num(e, "throughput_rps") == 1);
    expect_latency(ja_member(e, "latency_ms"), 5, 15, 15, 15, 15, 10);

    e = cJSON_GetArrayItem(eps, 2);
    assert_true(ja_num(e, "error_rate") == 1);
    assert_true(ja_num(e, "completed") == 0);
    assert_true(ja_num(e, "throughput_rps") == 0);
    assert_true(cJSON_IsNull(ja_member(ja_member(e, "latency_ms"), "p50")));
    assert_true(cJSON_IsNull(ja_member(ja_member(e, "latency_ms"), "mean")));
    assert_int_equal(cJSON_GetArraySize(ja_member(e, "status_counts")), 0);

    slow = ja_member(r, "slowest");
    assert_int_equal(cJSON_GetArraySize(slow), 2);
    assert_string_equal(json_str(cJSON_GetArrayItem(slow, 0), "path"), "/a");
    assert_true(ja_num(cJSON_GetArrayItem(slow, 0), "p95_ms") == 60);
    assert_string_equal(json_str(cJSON_GetArrayItem(slow, 1), "path"), "/b");
    assert_string_equal(json_str(cJSON_GetArrayItem(slow, 1), "method"), "POST");
    assert_true(ja_num(cJSON_GetArrayItem(slow, 1), "p95_ms") == 15);

    cJSON_Delete(r);
    for (int i = 0; i < 3; i++)
        stress_tally_cleanup(&t[i]);
}

/* Five endpoints with p95 of 1, 5, 3, 5, 4 ms: slowest are the 2nd and
 * 4th (tie: the earlier first), then the 5th. */
static void test_slowest_top_three(void **state)
{
    static const double p95[] = {1, 5, 3, 5, 4};
    static const char *const paths[] = {"/1", "/2", "/3", "/4", "/5"};
    struct stress_tally t[5];
    const cJSON *slow;
    cJSON *r;
    (void)state;

    for (int i = 0; i < 5; i++) {
        stress_tally_init(&t[i], "GET", paths[i], 10);
        stress_tally_sent(&t[i]);
        stress_tally_response(&t[i], 200, p95[i]);
    }
    r = stress_report_json("http://x.example", 1.0, "max_requests", t, 5);
    assert_non_null(r);
    slow = ja_member(r, "slowest");
    assert_int_equal(cJSON_GetArraySize(slow), STRESS_SLOWEST_MAX);
    assert_string_equal(json_str(cJSON_GetArrayItem(slow, 0), "path"), "/2");
    assert_string_equal(json_str(cJSON_GetArrayItem(slow, 1), "path"), "/4");
    assert_string_equal(json_str(cJSON_GetArrayItem(slow, 2), "path"), "/5");
    assert_string_equal(json_str(r, "stopped"), "max_requests");
    cJSON_Delete(r);
    for (int i = 0; i < 5; i++)
        stress_tally_cleanup(&t[i]);
}

/* Nothing sent: rates are 0, latencies null, nothing is slowest. */
static void test_empty_run(void **state)
{
    struct stress_tally t;
    cJSON *r;
    (void)state;

    stress_tally_init(&t, "GET", "/", 10);
    r = stress_report_json("http://x.example", 0.0, "duration", &t, 1);
    assert_non_null(r);
    assert_true(ja_num(r, "error_rate") == 0);
    assert_true(ja_num(r, "throughput_rps") == 0);
    assert_true(cJSON_IsNull(ja_member(ja_member(r, "latency_ms"), "p99")));
    assert_int_equal(cJSON_GetArraySize(ja_member(r, "slowest")), 0);
    cJSON_Delete(r);
    stress_tally_cleanup(&t);
}

/* 1 error in 3: 0.3333; 3 responses in 4.5 s: 0.67 per second; a mean of
 * 1, 2 and 2 us is 1.667 us, rounded to 2 us = 0.002 ms. */
static void test_rounding(void **state)
{
    struct stress_tally t;
    cJSON *r;
    (void)state;

    stress_tally_init(&t, "GET", "/", 10);
    for (int i = 0; i < 3; i++)
        stress_tally_sent(&t);
    stress_tally_response(&t, 200, 0.001);
    stress_tally_response(&t, 502, 0.002);
    stress_tally_response(&t, 200, 0.002);
    r = stress_report_json("http://x.example", 4.5, "duration", &t, 1);
    assert_non_null(r);
    assert_true(ja_num(r, "error_rate") == 0.3333);
    assert_true(ja_num(r, "throughput_rps") == 0.67);
    assert_true(ja_num(ja_member(r, "latency_ms"), "mean") == 0.002);
    assert_true(ja_num(r, "duration_s") == 4.5);
    cJSON_Delete(r);
    stress_tally_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test(test_tally_counts),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_slowest_top_three),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
