/* test_offload.c - unit tests for gateway/offload.c: every task runs once,
 * in order on one thread; a full queue refuses; stopping runs what is
 * queued and refuses the rest; bad sizes are refused. Tasks block on a
 * gate the test opens, so nothing here depends on timing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

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

static void test_bad_sizes(void **state)
{
    struct err e;

    (void)state;
    assert_null(offload_new(0, 4, &e));
    assert_int_equal(e.code, ERR_CONFIG);
    assert_null(offload_new(OFFLOAD_THREADS_MAX + 1, 4, &e));
    assert_null(offload_new(2, 0, &e));
    offload_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_many_tasks_many_threads),
        cmocka_unit_test(test_wraps_around),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
