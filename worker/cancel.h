/* cancel.h - stopping asynchronous work whose callback may run before the
 * function that started it returns (a model question answered from a
 * missing model, a task with nothing to do).
 *
 * Such work cannot hand back a handle: by the time its start function
 * returns, the work may be over and its state freed. The caller lends a
 * struct cancel instead, kept in the state its callback receives. The work
 * fills it before anything can call back and empties it just before its
 * callback runs (after that it never touches it again); while it is filled,
 * cancel_now() stops the work and its callback never runs.
 *
 *     struct job { struct cancel task; ... };     // zeroed: nothing running
 *     model_step_start(ctx, &in, on_done, j, &j->task);
 *     ...
 *     cancel_now(&j->task);    // shutdown: on_done will not run
 */
#ifndef WK_CANCEL_H
#define WK_CANCEL_H

/* Stops the work whose state is state: what it holds is released (at once,
 * or when a reply it cannot withdraw arrives, as a Redis one) and its
 * callback does not run. */
typedef void cancel_fn(void *state);

struct cancel {
    cancel_fn *fn;                  /* NULL: nothing to stop (not started, over or stopped) */
    void *state;                    /* the work's, for fn */
};

/* The work calls this when it starts: fn(state) stops it. c (borrowed)
 * must stay valid until cancel_clear or cancel_now. Accepts NULL c (the
 * caller does not cancel). */
void cancel_set(struct cancel *c, cancel_fn *fn, void *state);

/* The work calls this when it is over, just before its callback runs (or
 * when it fails to start and its callback never will): c is left empty and
 * is no longer the work's. Accepts NULL. */
void cancel_clear(struct cancel *c);

/* The caller stops the work c stands for, if any: c is left empty, then
 * fn(state) runs, so the work's callback does not. Harmless on an empty c,
 * so at any time, from the work's own callback too (c is empty by then). */
void cancel_now(struct cancel *c);

#endif
