/* sandbox.h - the Debug Doctor sandbox: runs a user's submitted files, and
 * nothing else ever runs them.
 *
 * Each run is one bubblewrap (bwrap) sandbox started through the launcher
 * (worker/sandbox_exec.h): every namespace unshared (no network at all; its
 * own pid namespace), a session and process group of its own with no
 * controlling terminal (a kill of the group ends every process of the
 * sandbox: on a timeout, a cancel, or the worker's death), no capabilities,
 * user SANDBOX_EXEC_UID (a root worker drops to it before bwrap, so
 * RLIMIT_NPROC holds), PR_SET_NO_NEW_PRIVS and a seccomp filter
 * (sandbox_exec.h lists it). The file system: /usr read-only with the /bin,
 * /lib, /lib64, /sbin links; /etc holding only alternatives, ld.so.cache and
 * localtime; a fresh /proc and /dev; size-capped tmpfs mounts /work (the
 * submitted files only; the working directory), /tmp and /dev/shm; the rest,
 * / included, read-only. Environment: PATH=/usr/bin:/bin, HOME=/work,
 * LANG=C.UTF-8, TMPDIR=/tmp, PWD=/work (and the sanitizer options for cc).
 * Limits: wall clock cfg->sandbox_timeout_ms (then SIGKILL), RLIMIT_CPU
 * cfg->sandbox_cpu_s (SIGXCPU), RLIMIT_AS cfg->sandbox_memory_mb (but see
 * node and cc), RLIMIT_NPROC, RLIMIT_FSIZE and RLIMIT_NOFILE below, no core
 * files; cfg->sandbox_output_max bytes kept of stdout and of stderr each, the
 * tail. At most cfg->sandbox_parallel runs at once (0: one per core); the
 * rest wait in a FIFO.
 *
 * Runners (argv inside the sandbox; args are appended, never a shell string;
 * an entry starting with '-' is passed as "./<entry>"):
 *   python  python3 -E -s -B <entry> args...
 *   pytest  python3 -E -s -B -m pytest -q -p no:cacheprovider [<entry>] args...
 *   node    node --max-old-space-size=<memory_mb> <entry> args...
 *           V8 reserves ~750 MB of address space before it runs anything, so
 *           RLIMIT_AS is memory_mb + SANDBOX_NODE_AS_EXTRA_MB, and V8 caps
 *           its heap at memory_mb.
 *   sh      sh <entry> args...
 *   bash    bash <entry> args...
 *   cc      sh -c <fixed script> sh <memory_kb> <n> <the n *.c files> args...
 *           compiles every submitted *.c (entry is not used) with cc -g -O0
 *           -fsanitize=address,undefined -fno-omit-frame-pointer -o
 *           /tmp/a.out ... -lm under ulimit -v <memory_kb>, then execs
 *           /tmp/a.out args... AddressSanitizer reserves terabytes of address
 *           space, so the program runs WITHOUT RLIMIT_AS; ASAN_OPTIONS bound
 *           it instead: hard_rss_limit_mb=<memory_mb> (polled every ~100 ms,
 *           so it can overshoot), max_allocation_size_mb=<memory_mb>,
 *           allocator_may_return_null=1, detect_leaks=0 (LeakSanitizer needs
 *           ptrace). A program it execs that is not instrumented has no
 *           memory limit but the tmpfs caps and the wall clock.
 *
 * If the sandbox cannot be set up (bwrap missing, user namespaces off, the
 * launcher or bwrap failing before the program starts), no user code runs:
 * the run's callback gets run == NULL and the reason.
 *
 * Known limits: RLIMIT_NPROC counts every process of the sandbox user, so
 * parallel runs share SANDBOX_NPROC (a fork bomb in one, or runs just
 * cancelled whose processes are still going away, can make bwrap fail to
 * fork: such a set-up is tried again SANDBOX_SETUP_RETRIES times, after
 * SANDBOX_SETUP_RETRY_MS, doubled each time, and then reports a set-up
 * failure); a worker that does not
 * run as root keeps its own uid, whose other processes count too. tmpfs
 * pages are not in RLIMIT_AS: each run may also hold SANDBOX_WORK_MB +
 * SANDBOX_TMP_MB + SANDBOX_SHM_MB of memory in files. A worker killed with
 * SIGKILL takes its sandboxes with it (the launcher's keeper gets a
 * parent-death signal) but leaves its staging directories in $TMPDIR.
 *
 *     struct sandbox_file f = {"main.py", text, strlen(text)};
 *     struct sandbox_spec s = {"python", "main.py", NULL, &f, 1};
 *     sandbox_run(sb, &s, on_run, ctx, &e);
 */
#ifndef WK_SANDBOX_H
#define WK_SANDBOX_H

#include <stddef.h>

#include "common/json.h"
#include "common/relpath.h"

struct config;
struct err;
struct loop;
struct sandbox;
struct sandbox_task;

/* Where bubblewrap is. */
#define SANDBOX_BWRAP "/usr/bin/bwrap"

/* Limits of a spec (sandbox_run refuses more). The gateway's are smaller. */
#define SANDBOX_FILES_MAX 32
#define SANDBOX_FILES_BYTES_MAX (4 * 1024 * 1024)   /* content of all files together */
#define SANDBOX_PATH_MAX 1024                       /* bytes of a file path */
#define SANDBOX_NAME_MAX RELPATH_NAME_MAX           /* bytes of one path segment */
#define SANDBOX_ARGS_MAX 32
#define SANDBOX_ARG_MAX 4096                        /* bytes of one argument */

/* Limits of a run that are not configuration. */
#define SANDBOX_NPROC 64                /* RLIMIT_NPROC: processes of the sandbox user */
#define SANDBOX_SETUP_RETRIES 3         /* tries again after a passing shortage (EAGAIN) */
#define SANDBOX_SETUP_RETRY_MS 250      /* ... after this, doubled each time */
#define SANDBOX_FSIZE_MB 10             /* RLIMIT_FSIZE: largest file written */
#define SANDBOX_NOFILE 64               /* RLIMIT_NOFILE */
#define SANDBOX_WORK_MB 64              /* tmpfs /work */
#define SANDBOX_TMP_MB 64               /* tmpfs /tmp */
#define SANDBOX_SHM_MB 16               /* tmpfs /dev/shm */
#define SANDBOX_NODE_AS_EXTRA_MB 1024   /* V8's reservations, added to RLIMIT_AS for node */

/* A submitted file. path: relative, already checked by the gateway
 * (common/relpath.h); "." and empty segments are ignored. */
struct sandbox_file {
    const char *path;
    const char *content;
    size_t len;                 /* bytes of content */
};

struct sandbox_spec {
    const char *runner;         /* job_runner_valid() */
    const char *entry;          /* one of files' paths; may be NULL for pytest and cc */
    const char *const *args;    /* extra arguments, NULL-terminated; may be NULL */
    const struct sandbox_file *files;
    int nfiles;
};

/* run (owns; cJSON_Delete) when the program ran:
 *   {"argv": [str...],          what ran inside the sandbox
 *    "exit": int|null,          exit status, null when killed by a signal
 *    "signal": int|null,        the signal that ended it (as a shell reports
 *                               it, an exit status 129..192 counts as signal
 *                               status-128: bwrap reports its child that way)
 *    "timed_out": bool,         the wall clock ran out (then "signal": 9)
 *    "stdout_tail": str,        the last sandbox_output_max bytes at most,
 *    "stderr_tail": str,        starting at a UTF-8 boundary; invalid bytes
 *                               and NULs become '?'
 *    "stdout_bytes": n, "stderr_bytes": n,   everything written
 *    "duration_ms": n}          wall clock, sandbox set-up included
 * or NULL when the sandbox could not be set up and nothing ran; why (borrowed
 * for the call) then says why, else it is NULL. */
typedef void sandbox_done_cb(void *arg, cJSON *run, const char *why);

/* Returns a sandbox (owns; sandbox_free) or NULL with e set (out of memory).
 * cfg is borrowed for the sandbox's life. self_exe: the worker binary, run
 * as the launcher ("/proc/self/exe"). bwrap: NULL for SANDBOX_BWRAP. Unless
 * cfg->sandbox_enabled is 0, probes once, synchronously (bwrap running
 * /bin/true, at most LAUNCHER_PROBE_TIMEOUT_MS: worker/launcher.h); a failed probe is not an
 * error: the sandbox is returned unusable (sandbox_unavailable). */
struct sandbox *sandbox_new(struct loop *loop, const struct config *cfg, const char *self_exe,
                            const char *bwrap, struct err *e);

/* NULL when runs can start, else why not (borrowed, static for the sandbox's
 * life), e.g. "sandbox disabled by CODEINSIGHT_SANDBOX=0". */
const char *sandbox_unavailable(const struct sandbox *sb);

/* Queues a run of spec (borrowed for the call: the files are copied to a
 * private staging directory first). Returns a handle (borrowed, valid until
 * cb runs or sandbox_cancel), or NULL with e set when the spec is invalid
 * (ERR_INVALID_FIELD_VALUE, ERR_INVALID_FILE_PATH, ERR_FIELD_TOO_LONG) or
 * memory ran out; then nothing runs and cb never does. cb runs exactly once,
 * from the loop, never inside this call; on an unusable sandbox with run NULL. */
struct sandbox_task *sandbox_run(struct sandbox *sb, const struct sandbox_spec *spec,
                                 sandbox_done_cb *cb, void *arg, struct err *e);

/* Kills the run (or drops it from the queue); its cb does not run. */
void sandbox_cancel(struct sandbox_task *t);

/* Kills every run still going and frees; their callbacks do not run. Accepts NULL. */
void sandbox_free(struct sandbox *sb);

#endif
