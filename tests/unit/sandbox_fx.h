/* sandbox_fx.h - test support for the sandbox tests (test_sandbox_*.c): a
 * loop and a sandbox (worker/sandbox.h) driven against the real bubblewrap,
 * runs waited for under a guard timer, accessors for a run's report, and a
 * census of the sandbox user's live processes.
 *
 * Like the worker, each test binary is its own launcher: main() calls
 * sbx_init() first, which hands a "--sandbox-exec" argv to the launcher and
 * never returns then; the sandboxes run /proc/self/exe. Needs bwrap with
 * user namespaces: without, sbx_no_sandbox() says why and the tests skip.
 *
 *     int main(int argc, char **argv)
 *     {
 *         const struct CMUnitTest tests[] = {
 *             cmocka_unit_test_setup_teardown(test_x, sbx_setup, sbx_teardown),
 *         };
 *         sbx_init(argc, argv);
 *         return cmocka_run_group_tests(tests, NULL, NULL);
 *     }
 */
#ifndef TEST_SANDBOX_FX_H
#define TEST_SANDBOX_FX_H

#include <cjson/cJSON.h>

#include "common/config.h"
#include "common/loop.h"
#include "worker/sandbox.h"

/* The wall clock of a run: never what ends one on a slow or busy machine,
 * but for the runs that are meant to meet it, which get T_SHORT_MS. That
 * clock counts the sandbox's set-up too (bwrap, then the interpreter), which
 * took over 1.5 s on a busy 2-core machine: T_SHORT_MS leaves room for it. */
#define T_TIMEOUT_MS 30000
#define T_SHORT_MS 6000
#define T_CPU_S 2               /* RLIMIT_CPU of a run */
#define T_OUTPUT_MAX 65536      /* bytes kept of each stream */
#define T_GUARD_MS 90000        /* no test waits longer for its runs */
#define T_RUNS_MAX 4

struct fx;

/* What one run reported: run (owned by the fixture) or NULL and why. */
struct outcome {
    struct fx *fx;
    cJSON *run;
    char why[512];
    int done;
    int order;                  /* 1 = first to finish */
};

struct fx {
    struct loop *loop;
    struct sandbox *sb;
    struct loop_timer *guard;
    struct config cfg;
    int pending;                /* runs started and not reported */
    int finished;
    int guard_fired;
    struct outcome out[T_RUNS_MAX];
};

/* Sandbox settings of the tests: enabled, 2 at once, T_TIMEOUT_MS, T_CPU_S,
 * 512 MB, T_OUTPUT_MAX. */
void sbx_cfg_defaults(struct config *cfg);

/* A fixture over a new loop and sandbox_new(cfg, self_exe, bwrap). */
struct fx *sbx_fx_new(const struct config *cfg, const char *self_exe, const char *bwrap);
void sbx_fx_free(struct fx *f);

/* cmocka fixtures: *state = a fixture with sbx_cfg_defaults, or with a
 * T_SHORT_MS wall clock; nothing when the tests skip. */
int sbx_setup(void **state);
int sbx_setup_short(void **state);
int sbx_teardown(void **state);

/* 1, with the reason printed, when the sandbox cannot work here. */
int sbx_no_sandbox(void);

/* Starts a run reported into f->out[slot] (sandbox_run's callback:
 * sbx_on_done, arg &f->out[slot]). Fails the test when refused. */
struct sandbox_task *sbx_start(struct fx *f, int slot, const char *runner, const char *entry,
                               const struct sandbox_file *files, int nfiles,
                               const char *const *args);
void sbx_on_done(void *arg, cJSON *run, const char *why);

/* One file, one run in slot 0, waited for. Returns the run (borrowed from
 * f); fails the test when the sandbox failed. cc runs without an entry. */
cJSON *sbx_run1(struct fx *f, const char *runner, const char *name, const char *code,
                const char *const *args);

/* Runs the loop until every started run has reported, at most T_GUARD_MS. */
void sbx_wait_all(struct fx *f);

/* Runs the loop for ms (callbacks may run meanwhile). */
void sbx_spin(struct fx *f, int ms);

/* Frees slot's outcome, for another run. */
void sbx_forget(struct fx *f, int slot);

/* A run's string member (fails the test when absent), number member (-1 for
 * null), and whether it timed out. */
const char *sbx_str(const cJSON *run, const char *name);
double sbx_num(const cJSON *run, const char *name);
int sbx_timed_out(const cJSON *run);

void sbx_expect_in(const char *hay, const char *needle);
void sbx_expect_not_in(const char *hay, const char *needle);

/* "<marker>-<base>": a file name whose runs sbx_sandbox_procs() counts. The
 * name lives until 8 more calls. */
const char *sbx_marked(const char *base);

/* Live (not zombie) processes of the sandbox user whose command line holds
 * this test process's marker. */
int sbx_sandbox_procs(void);

/* Waits (bounded) until none is left; fails the test otherwise. */
void sbx_expect_no_sandbox_procs(void);

/* First in main(): the launcher when argv says so (never returns); else
 * sets the marker and a canary secret in the environment (the sandbox must
 * never see it), and probes bwrap once. */
void sbx_init(int argc, char **argv);

#endif
