/* loop_until.c - see loop_until.h. */
#include "tests/unit/loop_until.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/loop.h"

struct loop_until {
    struct loop *loop;              /* borrowed */
    struct loop_timer *tick;        /* repeats during loop_until_run only */
    loop_until_cond *cond;          /* NULL: run until the deadline */
    void *arg;
    int64_t deadline_ms;            /* clock_mono_ms() */
};

static void on_tick(void *arg)
{
    struct loop_until *lu = arg;

    if ((lu->cond != NULL && lu->cond(lu->arg)) || clock_mono_ms() >= lu->deadline_ms)
        loop_stop(lu->loop);
}

struct loop_until *loop_until_new(struct loop *loop)
{
    struct loop_until *lu = calloc(1, sizeof *lu);

    assert_non_null(lu);
    lu->loop = loop;
    lu->tick = loop_timer_new(loop, on_tick, lu);
    assert_non_null(lu->tick);
    return lu;
}

int loop_until_run(struct loop_until *lu, loop_until_cond *cond, void *arg, int ms)
{
    int held;

    lu->cond = cond;
    lu->arg = arg;
    lu->deadline_ms = clock_mono_ms() + ms;
    loop_timer_start(lu->tick, LOOP_UNTIL_TICK_MS, LOOP_UNTIL_TICK_MS);
    loop_run(lu->loop);
    loop_timer_stop(lu->tick);
    held = cond != NULL && cond(arg);
    lu->cond = NULL;
    lu->arg = NULL;
    return held;
}

void loop_until_free(struct loop_until *lu)
{
    if (lu == NULL)
        return;
    loop_timer_free(lu->tick);
    free(lu);
}
