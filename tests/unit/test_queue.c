/* test_queue.c - unit tests for the arithmetic of gateway/queue.c: the
 * drain rate and recommended_workers, and the /queue/info view of a
 * snapshot. No Redis: snapshots are built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "gateway/queue.h"

static void test_recommended_workers(void **state)
{
    (void)state;
    /* Nothing to do, nothing deferred: scale to zero. */
    assert_int_equal(queue_recommended_workers(0, 0, 0.5, 60, 3), 0);
    /* Deferred jobs need a worker to put them back when due. */
    assert_int_equal(queue_recommended_workers(0, 4, 0.5, 60, 0), 1);
    /* No measured rate yet: at least one, or as many as are working. */
    assert_int_equal(queue_recommended_workers(10, 0, 0, 60, 0), 1);
    assert_int_equal(queue_recommended_workers(10, 0, 0, 60, 4), 4);
    /* ceil(backlog / (rate per worker * target)). */
    assert_int_equal(queue_recommended_workers(60, 0, 1.0, 60, 1), 1);
    assert_int_equal(queue_recommended_workers(61, 0, 1.0, 60, 1), 2);
    assert_int_equal(queue_recommended_workers(1000, 0, 0.5, 60, 2), 34);
    assert_int_equal(queue_recommended_workers(1, 0, 100.0, 60, 9), 1);
}

static struct queue_snapshot snapshot(void)
{
    struct queue_snapshot q;

    memset(&q, 0, sizeof q);
    q.stream = "review_jobs";
    q.group = "fast";
    q.pool = "fast";
    q.now_ms = 1800000000000LL + 30000;     /* 30 s into a minute */
    q.length = 120;
    q.has_group = 1;
    q.pending = 20;
    q.deferred = 2;
    q.dead_letters = 1;
    for (int m = 0; m < QUEUE_WINDOW_MIN; m++)
        q.done[m] = 54;
    q.done_window = 54 * QUEUE_WINDOW_MIN;
    q.window_s = (QUEUE_WINDOW_MIN - 1) * 60 + 30;      /* 270 s */
    q.consumers_total = 3;
    q.consumers_active = 2;
    q.n_listed = 1;
    snprintf(q.listed[0].name, sizeof q.listed[0].name, "fast-host-1-abcd");
    q.listed[0].pending = 20;
    q.listed[0].idle_ms = 150;
    snprintf(q.oldest_id, sizeof q.oldest_id, "1799999990000-0");
    q.oldest_age_s = 40.0;
    return q;
}

static void test_rates(void **state)
{
    struct queue_snapshot q = snapshot();
    (void)state;

    /* 270 completions in 270 s: 1/s, 0.5/s for each of 2 active workers. */
    assert_true(queue_rate_per_s(&q) == 1.0);
    assert_true(queue_rate_per_worker_s(&q) == 0.5);
    q.consumers_active = 0;
    assert_true(queue_rate_per_worker_s(&q) == 1.0);
}

static void test_snapshot_json(void **state)
{
    struct queue_snapshot q = snapshot();
    cJSON *o;
    const cJSON *c;
    (void)state;

    o = queue_snapshot_json(&q, 60);
    assert_non_null(o);
    assert_string_equal(json_str(o, "stream"), "review_jobs");
    assert_string_equal(json_str(o, "pool"), "fast");
    assert_int_equal(cJSON_GetObjectItem(o, "length")->valuedouble, 120);
    assert_int_equal(cJSON_GetObjectItem(o, "pending")->valuedouble, 20);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "lag")));
    assert_string_equal(json_str(o, "oldest_pending_id"), "1799999990000-0");
    assert_true(cJSON_GetObjectItem(o, "oldest_pending_age_s")->valuedouble == 40.0);
    assert_true(cJSON_GetObjectItem(o, "completed_per_min")->valuedouble == 60.0);
    assert_true(cJSON_GetObjectItem(o, "rate_per_worker_per_s")->valuedouble == 0.5);
    /* 120 / (0.5 * 60) = 4. */
    assert_int_equal(cJSON_GetObjectItem(o, "recommended_workers")->valuedouble, 4);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "completed_by_minute")),
                     QUEUE_WINDOW_MIN);
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "consumers"), 0);
    assert_string_equal(json_str(c, "name"), "fast-host-1-abcd");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c, "active")));
    cJSON_Delete(o);

    /* A known lag is shown; no completions: no per-worker rate. */
    q.has_lag = 1;
    q.lag = 100;
    q.done_window = 0;
    memset(q.done, 0, sizeof q.done);
    o = queue_snapshot_json(&q, 60);
    assert_non_null(o);
    assert_int_equal(cJSON_GetObjectItem(o, "lag")->valuedouble, 100);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "rate_per_worker_per_s")));
    assert_int_equal(cJSON_GetObjectItem(o, "recommended_workers")->valuedouble, 2);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recommended_workers),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_snapshot_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
