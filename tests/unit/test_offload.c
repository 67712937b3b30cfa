/* test_offload.c - unit tests for gateway/offload.c: every task runs once,
 * in order on one thread; a full queue refuses; stopping runs what is
 * queued and refuses the rest; bad sizes are refused; a batched pool hands
 * over everything queued while its previous batch ran, in order, at most
 * batch_max at a time; a stop with a deadline returns at it, the threads
 * still busy not joined, and joins them once they are done. Tasks block on
 * a gate the test opens, so nothing here depends on timing but the
 * deadline's own. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/clock.h"
#include "gateway/offload.h"

/* A gate tasks wait on until the test opens it, and a log of what ran. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    int started;                    /* tasks that entered run() */
    int ran[64];                    /* ids, in the order they finished */
    int n;
};

struct task {
    struct gate *g;
    int id;
};

static void run(void *arg)
{
    struct task *t = arg;
    struct gate *g = t->g;

    pthread_mutex_lock(&g->mu);
    g->started++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    g->ran[g->n++] = t->id;
    pthread_mutex_unlock(&g->mu);
}

static void gate_init(struct gate *g)
{
    *g = (struct gate){.open = 0};
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
}

static void gate_wait_started(struct gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->started < n)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void test_full_queue_refuses(void **state)
{
    struct gate g;
    struct task t[5];
    struct err e;
    struct offload *o = offload_new(1, 2, &e);

    (void)state;
    assert_non_null(o);
    gate_init(&g);
    for (int i = 0; i < 5; i++)
        t[i] = (struct task){&g, i};
    /* One task on the thread (blocked), two queued: the fourth is refused. */
    assert_int_equal(offload_submit(o, run, &t[0]), 0);
    gate_wait_started(&g, 1);
    assert_int_equal(offload_submit(o, run, &t[1]), 0);
    assert_int_equal(offload_submit(o, run, &t[2]), 0);
    assert_int_equal(offload_queued(o), 2);
    assert_int_equal(offload_submit(o, run, &t[3]), -1);
    gate_open(&g);
    offload_free(o);                /* runs what is queued, joins */
    assert_int_equal(g.n, 3);
    /* One thread: first in, first run. */
    assert_int_equal(g.ran[0], 0);
    assert_int_equal(g.ran[1], 1);
    assert_int_equal(g.ran[2], 2);
}

static void test_many_tasks_many_threads(void **state)
{
    struct gate g;
    struct task t[64];
    struct err e;
    struct offload *o = offload_new(4, 64, &e);
    int seen[64] = {0};

    (void)state;
    assert_non_null(o);
    gate_init(&g);
    for (int i = 0; i < 64; i++) {
        t[i] = (struct task){&g, i};
        assert_int_equal(offload_submit(o, run, &t[i]), 0);
    }
    /* All four threads take a task each: they do run side by side. */
    gate_wait_started(&g, 4);
    gate_open(&g);
    offload_free(o);
    assert_int_equal(g.n, 64);
    for (int i = 0; i < 64; i++)
        seen[g.ran[i]]++;
    for (int i = 0; i < 64; i++)
        assert_int_equal(seen[i], 1);
}

static void test_wraps_around(void **state)
{
    struct gate g;
    struct task t[10];
    struct err e;
    struct offload *o = offload_new(1, 3, &e);

    (void)state;
    assert_non_null(o);
    gate_init(&g);
    gate_open(&g);
    /* Ten tasks through a ring of three, each waited for: every slot is
     * reused and the order kept. */
    for (int i = 0; i < 10; i++) {
        t[i] = (struct task){&g, i};
        assert_int_equal(offload_submit(o, run, &t[i]), 0);
        gate_wait_started(&g, i + 1);
    }
    offload_free(o);
    assert_int_equal(g.n, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(g.ran[i], i);
}

/* Batches: each call records its size and its tasks, and blocks on the
 * gate while it is the first batch. */
struct batches {
    struct gate *g;
    int sizes[64];
    int nbatches;
};

static void run_batch(void *ctx, void **args, int n)
{
    struct batches *b = ctx;

    pthread_mutex_lock(&b->g->mu);
    b->sizes[b->nbatches++] = n;
    pthread_mutex_unlock(&b->g->mu);
    for (int i = 0; i < n; i++)
        run(args[i]);
}

static void test_batched_pool_takes_what_queued(void **state)
{
    struct gate g;
    struct batches b = {.g = &g};
    struct task t[12];
    struct err e;
    struct offload *o;

    (void)state;
    gate_init(&g);
    o = offload_new_batched(1, 16, 5, run_batch, &b, &e);
    assert_non_null(o);
    t[0] = (struct task){&g, 0};
    assert_int_equal(offload_submit(o, NULL, &t[0]), 0);
    gate_wait_started(&g, 1);       /* the first batch holds task 0 alone */
    for (int i = 1; i < 12; i++) {
        t[i] = (struct task){&g, i};
        assert_int_equal(offload_submit(o, NULL, &t[i]), 0);
    }
    assert_int_equal(offload_queued(o), 11);
    gate_open(&g);
    offload_free(o);
    /* 11 queued behind it: batches of 5, 5 and 1, in the order submitted. */
    assert_int_equal(b.nbatches, 4);
    assert_int_equal(b.sizes[0], 1);
    assert_int_equal(b.sizes[1], 5);
    assert_int_equal(b.sizes[2], 5);
    assert_int_equal(b.sizes[3], 1);
    assert_int_equal(g.n, 12);
    for (int i = 0; i < 12; i++)
        assert_int_equal(g.ran[i], i);
}

/* Two threads: a second batch goes while the first still runs, and what
 * queued behind both is shared out, batch_max at most at a time. */
static void test_batched_pool_runs_batches_concurrently(void **state)
{
    struct gate g;
    struct batches b = {.g = &g};
    struct task t[10];
    struct err e;
    struct offload *o;
    int total = 0, seen[10] = {0};

    (void)state;
    gate_init(&g);
    o = offload_new_batched(2, 16, 5, run_batch, &b, &e);
    assert_non_null(o);
    for (int i = 0; i < 2; i++) {
        t[i] = (struct task){&g, i};
        assert_int_equal(offload_submit(o, NULL, &t[i]), 0);
        gate_wait_started(&g, i + 1);   /* one thread each, both blocked */
    }
    for (int i = 2; i < 10; i++) {
        t[i] = (struct task){&g, i};
        assert_int_equal(offload_submit(o, NULL, &t[i]), 0);
    }
    assert_int_equal(offload_queued(o), 8);
    gate_open(&g);
    offload_free(o);
    assert_int_equal(b.sizes[0], 1);
    assert_int_equal(b.sizes[1], 1);
    assert_true(b.nbatches >= 4);   /* 8 queued, at most 5 a batch */
    for (int i = 0; i < b.nbatches; i++) {
        assert_true(b.sizes[i] >= 1 && b.sizes[i] <= 5);
        total += b.sizes[i];
    }
    assert_int_equal(total, 10);
    assert_int_equal(g.n, 10);
    for (int i = 0; i < 10; i++)
        seen[g.ran[i]]++;
    for (int i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
}

static void test_stop_by_returns_at_its_deadline(void **state)
{
    struct gate g;
    struct task t[3];
    struct err e;
    struct offload *o = offload_new(2, 4, &e);
    int64_t t0;

    (void)state;
    assert_non_null(o);
    gate_init(&g);
    for (int i = 0; i < 3; i++) {
        t[i] = (struct task){&g, i};
        assert_int_equal(offload_submit(o, run, &t[i]), 0);
    }
    gate_wait_started(&g, 2);       /* both threads blocked, one task queued */
    t0 = clock_mono_ms();
    assert_int_equal(offload_stop_by(o, t0 + 100), 2);
    assert_true(clock_mono_ms() - t0 >= 100);
    assert_int_equal(offload_submit(o, run, &t[0]), -1);    /* stopping */
    assert_int_equal(offload_stop_by(o, t0 - 1), 2);        /* passed: no wait */
    gate_open(&g);
    /* What was queued still runs; then every thread is joined. */
    assert_int_equal(offload_stop_by(o, clock_mono_ms() + 30000), 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(offload_stop_by(o, 0), 0);             /* again: nothing left */
    offload_free(o);
    assert_int_equal(offload_stop_by(NULL, 0), 0);
}

static void test_bad_sizes(void **state)
{
    struct err e;

    (void)state;
    assert_null(offload_new(0, 4, &e));
    assert_int_equal(e.code, ERR_CONFIG);
    assert_null(offload_new(OFFLOAD_THREADS_MAX + 1, 4, &e));
    assert_null(offload_new(2, 0, &e));
    assert_null(offload_new_batched(1, 4, 0, run_batch, NULL, &e));
    assert_null(offload_new_batched(1, 4, OFFLOAD_BATCH_MAX + 1, run_batch, NULL, &e));
    assert_null(offload_new_batched(1, 4, 2, NULL, NULL, &e));
    assert_null(offload_new_batched(0, 4, 2, run_batch, NULL, &e));
    assert_int_equal(e.code, ERR_CONFIG);
    offload_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_many_tasks_many_threads),
        cmocka_unit_test(test_wraps_around),
        cmocka_unit_test(test_batched_pool_takes_what_queued),
        cmocka_unit_test(test_batched_pool_runs_batches_concurrently),
        cmocka_unit_test(test_stop_by_returns_at_its_deadline),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
