/* loop.h - the worker's event loop: fd watchers, timers, signals and child
 * processes. The one place libuv is included; everything that waits in the
 * worker (Redis, PostgreSQL, libcurl, linters) waits here.
 *
 * All callbacks run on the loop thread. Objects are freed with their _free
 * function, which may be called from inside their own callback; the memory is
 * released once the loop has let go of it.
 */
#ifndef CI_LOOP_H
#define CI_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct loop;
struct loop_io;
struct loop_timer;

typedef void loop_io_cb(void *arg, int readable, int writable);
typedef void loop_timer_cb(void *arg);
typedef void loop_signal_cb(void *arg, int signum);

/* Returns a new loop (owns; loop_free) or NULL with e set. */
struct loop *loop_new(struct err *e);

/* Runs until loop_stop() or until nothing is left to wait for. Returns 0. */
int loop_run(struct loop *loop);

/* Makes loop_run() return after the current iteration. */
void loop_stop(struct loop *loop);

/* Closes every handle still open, runs their close callbacks, frees. A
 * child still running, or cancelled and not yet reaped, is freed without
 * waiting for it (its cb does not run). Accepts NULL. */
void loop_free(struct loop *loop);

/* Watches fd (borrowed: the caller closes it, after loop_io_free). Returns
 * the watcher (owns) or NULL. Starts with no events wanted. */
struct loop_io *loop_io_new(struct loop *loop, int fd, loop_io_cb *cb, void *arg);

/* Sets which events wake the callback; (0, 0) pauses the watcher. Returns 0 or -1. */
int loop_io_want(struct loop_io *io, int readable, int writable);

/* Stops and frees a watcher; accepts NULL. */
void loop_io_free(struct loop_io *io);

/* Returns a stopped timer (owns) or NULL. */
struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_cb *cb, void *arg);

/* Fires after ms, then every repeat_ms (0: once). Restarting replaces the schedule. */
void loop_timer_start(struct loop_timer *t, uint64_t ms, uint64_t repeat_ms);
void loop_timer_stop(struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/* Calls cb on the loop thread whenever signum arrives. Returns 0 or -1.
 * The handler lives as long as the loop. */
int loop_on_signal(struct loop *loop, int signum, loop_signal_cb *cb, void *arg);

/* A child process to run with its output captured. */
struct loop_proc_spec {
    const char *const *argv;    /* argv[0] is looked up in PATH */
    const char *const *env;     /* full environment, NULL-terminated */
    const char *cwd;
    uint64_t timeout_ms;        /* killed (kill_grace_ms) after this wall-clock time */
    size_t output_max;          /* bytes kept of stdout and of stderr each: the
                                 * first ones (loop_spawn) or the last (loop_spawn_tail) */
    uint64_t kill_grace_ms;     /* 0: a kill (timeout, cancel) is SIGKILL to the group
                                 * at once. Else SIGTERM to the child alone first, for
                                 * it to end what it started, then SIGKILL to its group
                                 * once it has exited, or this much later */
};

struct loop_proc_result {
    int spawn_error;            /* 0, or the errno-style reason it did not start */
    int exit_code;              /* valid when spawn_error == 0 and term_signal == 0 */
    int term_signal;
    int timed_out;
    char *out;                  /* stdout, NUL-terminated (borrowed for the callback) */
    size_t out_len;
    int out_truncated;
    char *err;                  /* stderr, likewise */
    size_t err_len;
    int err_truncated;
    uint64_t out_total;         /* bytes the child wrote to stdout, kept or not */
    uint64_t err_total;
    int64_t duration_ms;
};

typedef void loop_proc_cb(void *arg, const struct loop_proc_result *res);

struct loop_proc;

/* Starts a child, as the leader of a new session and process group: no
 * controlling terminal, and the kills below reach the whole group. cb runs
 * exactly once, after the child has exited and both pipes are drained (or,
 * from the loop, when it could not start). Returns
 * the running child (borrowed: valid until cb runs), or NULL with e set when
 * nothing could be scheduled. */
struct loop_proc *loop_spawn(struct loop *loop, const struct loop_proc_spec *spec,
                             loop_proc_cb *cb, void *arg, struct err *e);

/* Same, but keeps the LAST output_max bytes of each stream (out/err hold
 * them in order, possibly cut inside a UTF-8 sequence or a line); the child
 * is drained to the end whatever it writes. */
struct loop_proc *loop_spawn_tail(struct loop *loop, const struct loop_proc_spec *spec,
                                  loop_proc_cb *cb, void *arg, struct err *e);

/* Kills a running child (SIGKILL to its process group, or first SIGTERM to
 * the child when its spec has a kill_grace_ms) and detaches it: its cb will
 * not run. The loop still runs the grace's timer; a loop freed before it
 * fires leaves the rest to the child. */
void loop_proc_cancel(struct loop_proc *p);

/* Name of the reason a child did not start (strerror-like). */
const char *loop_strerror(int spawn_error);

#endif
