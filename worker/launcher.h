/* launcher.h - the worker's side of the sandbox launcher
 * (worker/sandbox_exec.h): its command line, its start-up probe, and what
 * a finished launcher's status file and exit say.
 *
 * Two users: the Debug Doctor sandbox (worker/sandbox.h), which runs
 * submitted code, and the linters (worker/lint.h), which read it.
 *
 * A run's private directory (scratch_create, 0700) holds the files to copy
 * into the sandbox under LAUNCHER_FILES_DIR, and the status files beside
 * them, so no file name a user chooses can clash with one:
 *
 *     DIR/files/<rel>...      --stage DIR/files --file <rel>
 *     DIR/status              --status DIR/status (one per run)
 *
 *     struct strv sv = {0};
 *     launcher_head(&sv, &where, stage, status, cpu_s, as_mb);
 *     strv_add(&sv, "--file"); strv_add(&sv, "main.py");
 *     strv_add(&sv, "--"); strv_add(&sv, "python3"); ...
 *     loop_spawn(..., spec.argv = sv.v, spec.env = launcher_env ...)
 *     ... when it ended: launcher_ran(status, timed_out || signal), else
 *     launcher_failure().
 */
#ifndef WK_LAUNCHER_H
#define WK_LAUNCHER_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct loop_proc_result;
struct strv;

/* The sub-directory of a run's directory that the launcher stages from. */
#define LAUNCHER_FILES_DIR "files"

/* Bytes of a reason this module writes (why, cap) at most, NUL included. */
#define LAUNCHER_WHY_MAX 256

/* The probe: at most this long, CPU and address space. */
#define LAUNCHER_PROBE_TIMEOUT_MS 15000
#define LAUNCHER_PROBE_CPU_S 5
#define LAUNCHER_PROBE_MEMORY_MB 256

/* The launcher program installed beside the worker binary. */
#define LAUNCHER_EXE_NAME "codeinsight-sandbox-exec"

/* Where the launcher and bubblewrap are. */
struct launcher {
    char self_exe[PATH_MAX];    /* the launcher: LAUNCHER_EXE_NAME, or the worker
                                   binary itself ("/proc/self/exe"); same argv */
    char bwrap[PATH_MAX];       /* absolute */
};

/* Fills l: LAUNCHER_EXE_NAME in the directory of the running binary when it
 * is there and executable (it starts about 10 ms faster), else
 * "/proc/self/exe", which every worker binary is too; bwrap: bwrap. */
void launcher_locate(struct launcher *l, const char *bwrap);

/* The launcher's own environment (PATH only): spawn it with this. */
extern const char *const launcher_env[];

/* Appends the launcher's options up to, not including, the per-run ones
 * (--file, --env, --ro-bind) and "--": self_exe, SANDBOX_EXEC_FLAG,
 * --bwrap, --stage, --status, --cpu, --as-mb (0: no address-space limit). */
void launcher_head(struct strv *sv, const struct launcher *l, const char *stage,
                   const char *status, long cpu_s, long as_mb);

/* 1 when the program of a finished launcher ran (its result is the
 * program's): bwrap wrote "exit-code" to the status file at path, or
 * "child-pid" and the run was stopped from outside (stopped: its wall
 * clock ran out, or the launcher was killed by a signal after the program
 * started). Else 0: nothing of the program ran. bwrap exits 1 when its own
 * set-up fails in the sandbox's first process, after "child-pid"; only the
 * missing "exit-code" tells that from a program's exit 1. */
int launcher_ran(const char *path, int stopped);

/* A stopped launcher's grace (loop_proc_spec.kill_grace_ms): a timeout or a
 * cancel first sends the launcher, the sandbox's keeper, a SIGTERM, on which
 * it kills bwrap, then the sandbox's first process (the init of its pid
 * namespace, whose death takes every process in it), then its own group
 * (worker/sandbox_exec.c, keep). The kill of the launcher's group alone does
 * not reach that init once it has left the group (bwrap --new-session puts
 * it in a session of its own), and bwrap's --die-with-parent leaves a
 * window during bwrap's set-up in which the init, orphaned, runs on (a
 * cancel that landed then left a 60 s sleeper running to its end, about one
 * run in eight of test_sandbox_sched under load). Only the keeper can kill
 * it safely: a child subreaper, it is the init's parent once bwrap is gone,
 * so the pid it kills cannot have been reused; the worker, killing by the
 * pid in the status file, could hit another process. The group's SIGKILL
 * follows when the keeper has exited, or after this grace. */
#define LAUNCHER_KILL_GRACE_MS 2000

/* The reason of a run that did not launcher_ran (so all its output is the
 * launcher's or bwrap's), into why (cap bytes):
 * "sandbox set-up failed (exit N): <last line of stderr, else stdout>". */
void launcher_failure(const struct loop_proc_result *r, char *why, size_t cap);

/* 1 when such a failure was a shortage that passes (bwrap could not fork or
 * make a namespace: EAGAIN, as when RLIMIT_NPROC is reached for a moment),
 * so that the same run may be tried again; else 0. */
int launcher_transient(const struct loop_proc_result *r);

/* Checks that bwrap is there and runs the launcher with cmd (NULL-terminated
 * argv; NULL for /bin/true, in LAUNCHER_PROBE_MEMORY_MB; a cmd of the
 * worker's own, e.g. "eslint --version", runs without an address-space
 * limit), synchronously, waiting at most LAUNCHER_PROBE_TIMEOUT_MS. extra:
 * more launcher options (NULL-terminated; NULL for none), e.g. a --ro-bind
 * of a tree cmd needs. Succeeds when cmd exits 0. Returns 0, or -1 with the
 * reason in why (cap bytes). */
int launcher_probe(const struct launcher *l, const char *const *extra, const char *const *cmd,
                   char *why, size_t cap);

#endif
