/* lint.h - runs the real linters for one file, on the event loop, with a cap
 * on linter processes running at once.
 *
 * Each run gets a private temporary directory holding only the file (and
 * ESLint's one-line config stub), a minimal environment, a wall-clock
 * timeout and an output cap. A missing or failing linter becomes a note,
 * never an error.
 *
 * Linters read the code and never run it (their flags see to that), yet a
 * linter is a large program fed hostile input: so, unless
 * cfg->lint_sandbox is 0, each run is also a sandbox of its own, set up by
 * the sandbox launcher (worker/launcher.h, worker/sandbox_exec.h) as for
 * Debug Doctor: no network, its own pid namespace (the worker's
 * /proc/<pid>/environ is out of sight), no capabilities, the seccomp filter,
 * when the worker is root a user of the linters' own (SANDBOX_EXEC_LINT_UID,
 * SANDBOX_LINT_NPROC processes: not Debug Doctor's "nobody" and its 64),
 * /usr read-only, the file copied to
 * /work (the working directory), ESLint's install (cfg->eslint_dir)
 * read-only at /opt/eslint, nothing else of the worker's file system;
 * limits RLIMIT_CPU lint_timeout_ms / 1000 + 1 s, RLIMIT_AS
 * cfg->lint_memory_mb (ESLint: + SANDBOX_NODE_AS_EXTRA_MB; shellcheck: none,
 * GHC's collector needs about twice its live heap), and the
 * sandbox's NPROC, FSIZE and NOFILE. The pool probes the launcher once, in
 * lint_pool_new, and once more with ESLint's mount: when a probe fails,
 * cfg->lint_sandbox 1 runs the linters concerned (all, or ESLint)
 * unsandboxed and 2 runs none of them (lint_pool_unsandboxed says why). A
 * sandbox that fails to set up for one run makes that linter's note say
 * so; a linter not installed is "missing", as without a sandbox; a file
 * over SANDBOX_FSIZE_MB (only with CODEINSIGHT_BODY_MAX raised) is not
 * linted in a sandbox, and the note says so.
 */
#ifndef WK_LINT_H
#define WK_LINT_H

#include <stddef.h>

#include "common/json.h"

struct config;
struct err;
struct launcher;
struct lint_pool;
struct loop;

struct lint_result {
    const char *language;       /* canonical language (static) or NULL when unknown */
    cJSON *findings;            /* array of findings, as in linters.h */
    cJSON *linters;             /* array of {tool, status, exit_code, duration_ms, findings} */
    cJSON *notes;               /* array of strings */
    int failed;                 /* 1 when the file could not even be prepared */
    char error[256];            /* why, when failed */
};

/* res is taken: the callee owns its cJSON members (free with lint_result_cleanup). */
typedef void lint_done_cb(void *arg, struct lint_result *res);

/* Returns a pool (owns; lint_pool_free) or NULL. where: the launcher and
 * bubblewrap (copied), or NULL for no sandbox; probed here, synchronously
 * (at most LAUNCHER_PROBE_TIMEOUT_MS each), unless cfg->lint_sandbox is 0. */
struct lint_pool *lint_pool_new(struct loop *loop, const struct config *cfg,
                                const struct launcher *where, struct err *e);

/* NULL when every linter runs sandboxed, else why not (borrowed, static for
 * the pool's life), e.g. "turned off by CODEINSIGHT_LINT_SANDBOX=0" or
 * "ESLint cannot run from its install in the sandbox: ...". */
const char *lint_pool_unsandboxed(const struct lint_pool *pool);

/* Which linters that is: NULL (none), "all" or "eslint" (static). */
const char *lint_pool_unsandboxed_linters(const struct lint_pool *pool);

/* The linters of linters_all() this pool cannot find, where their runs
 * would look (the sandbox's /usr/local/bin and /usr/bin, else the worker's
 * PATH; ESLint in CODEINSIGHT_ESLINT_DIR first), as "pylint, eslint" in
 * buf (cut between names when cap is short). Their runs are reported
 * "missing" on every job. Returns how many. */
int lint_pool_missing(const struct lint_pool *pool, char *buf, size_t cap);

/* Kills linters still running and frees; their callbacks do not run. Accepts NULL. */
void lint_pool_free(struct lint_pool *pool);

/* Starts linting file_path (relative, validated) with content[0..len).
 * language may be NULL (guessed from the extension). Returns a handle
 * (borrowed, valid until cb) or NULL with e set; cb always runs from the loop,
 * never inside this call. */
struct lint_task *lint_start(struct lint_pool *pool, const char *file_path, const char *content,
                             size_t len, const char *language, lint_done_cb *cb, void *arg,
                             struct err *e);

/* Frees the members of a result; safe on a zeroed struct. */
void lint_result_cleanup(struct lint_result *res);

#endif
