/* cancel.c - a caller's hold on work it may have to stop. */
#include "worker/cancel.h"

#include <stddef.h>

void cancel_set(struct cancel *c, cancel_fn *fn, void *state)
{
    if (c == NULL)
        return;
    c->fn = fn;
    c->state = state;
}

void cancel_clear(struct cancel *c)
{
    if (c == NULL)
        return;
    c->fn = NULL;
    c->state = NULL;
}

void cancel_now(struct cancel *c)
{
    cancel_fn *fn;
    void *state;

    if (c == NULL || c->fn == NULL)
        return;
    fn = c->fn;
    state = c->state;
    /* Emptied first: fn frees the work, which must not find c filled. */
    cancel_clear(c);
    fn(state);
}
