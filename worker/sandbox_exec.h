/* sandbox_exec.h - the sandbox launcher: the last step between the worker and
 * bubblewrap, in a process of its own.
 *
 * Resource limits and a change of user cannot be asked of libuv's spawn, so
 * the worker (worker/launcher.h builds the command line, for the Debug
 * Doctor sandbox and for the linters) runs the launcher: the program
 * codeinsight-sandbox-exec beside its binary (worker/sandbox_exec_main.c),
 * or else its own binary again:
 *
 *     codeinsight-sandbox-exec | /proc/self/exe --sandbox-exec --bwrap /usr/bin/bwrap --stage DIR
 *         --status FILE [--file REL]... --cpu S [--as-mb MB] [--linter]
 *         [--env NAME=VALUE]... [--ro-bind SRC DEST]... -- CMD ARG...
 *
 * and either program's main() hands that argv to sandbox_exec_main() before
 * anything else:
 *
 *     if (argc > 1 && strcmp(argv[1], SANDBOX_EXEC_FLAG) == 0)
 *         return sandbox_exec_main(argc, argv);
 *
 * In order, the launcher closes every inherited descriptor but 0-2; opens
 * DIR/REL for each --file (copied by bwrap to /work/REL, mode 0644, parent
 * directories created) and creates FILE, which must not exist (bwrap's
 * --json-status-fd: a "child-pid" line there means the sandbox was set up
 * and CMD was started; an "exit-code" line, that CMD ended);
 * writes the seccomp filter (sandbox_exec_seccomp) to a memfd; when it runs
 * as root, drops to SANDBOX_EXEC_UID/GID (--linter: SANDBOX_EXEC_LINT_UID)
 * with no supplementary groups;
 * sets PR_SET_NO_NEW_PRIVS; then forks. The parent stays as the sandbox's
 * keeper, a child subreaper holding FILE open read-only: it waits for bwrap
 * and exits as bwrap did (the same code, or the same signal), and on a
 * SIGTERM (the worker stopping the run: LAUNCHER_KILL_GRACE_MS; or the
 * worker's death: the parent-death signal) it kills bwrap and then its
 * process group; either way, before it exits, it kills the sandbox's init (FILE's
 * "child-pid") if bwrap left it behind, orphaned, the keeper's child by
 * then. The child sets a parent-death SIGKILL, sets the rlimits
 * (worker/sandbox.h: CPU soft --cpu / hard +1 s, AS --as-mb unless 0, NPROC
 * (--linter: SANDBOX_LINT_NPROC),
 * FSIZE, NOFILE, CORE 0) last, because the worker may be an ASan build that
 * needs its address space until the exec; and execve()s bwrap with an
 * environment of PATH only. CMD runs under --clearenv with PATH, HOME=/work,
 * LANG, TMPDIR and the --env pairs (at most 8; a later NAME wins, PATH
 * too). Each --ro-bind mounts the tree SRC (absolute, already resolved:
 * the worker's own install, never a user's path) read-only at DEST, which
 * must lie under SANDBOX_EXEC_BIND_ROOT (at most 4).
 *
 * The launcher must be started as the leader of a new session (loop_spawn
 * does; the probe uses POSIX_SPAWN_SETSID): bwrap is not asked for a session
 * of its own, so every process of the sandbox, the pid namespace's init
 * first, is born in the launcher's process group, and a SIGKILL to the group
 * reaches them all; the init's death ends the rest of the namespace. There
 * is no controlling terminal to push input into (TIOCSTI).
 *
 * The seccomp filter denies with EPERM: socket() of any family but AF_UNIX;
 * ptrace, process_vm_readv/writev, pidfd_getfd; mount, umount2, pivot_root,
 * chroot and the new mount API (fsopen, fsconfig, fsmount, fspick,
 * move_mount, open_tree, mount_setattr); unshare, setns, and clone() with a
 * CLONE_NEW* flag; bpf, perf_event_open, userfaultfd; keyctl, add_key,
 * request_key; kexec_load, kexec_file_load, init_module, finit_module,
 * delete_module, reboot, swapon, swapoff, iopl, ioperm, acct, quotactl,
 * quotactl_fd, syslog; shmget and msgget (System V segments and queues
 * hold memory no process maps, outside RLIMIT_AS and the tmpfs caps, and
 * the run's IPC namespace does not limit them); personality() with any
 * value but PER_LINUX (0), PER_LINUX32 (8) and the query 0xffffffff. With
 * ENOSYS, so libraries fall back: clone3 (its flags cannot be inspected;
 * glibc then uses clone), io_uring_setup/enter/register (io_uring can open
 * sockets without socket()) and memfd_create (anonymous files outside the
 * tmpfs caps; /tmp serves instead).
 * System calls of other architectures (int 0x80, x32) kill the process.
 *
 * DIR and FILE's directory must be private to the worker (mkdtemp, 0700;
 * worker/launcher.h's layout): nothing of them is mounted into the sandbox,
 * and the files are opened before the change of user. REL paths must be
 * relative, without "." or ".." segments or empty ones (worker/sandbox.c
 * and worker/lint.c check).
 */
#ifndef WK_SANDBOX_EXEC_H
#define WK_SANDBOX_EXEC_H

#include <sys/types.h>

/* argv[1] that selects the launcher. */
#define SANDBOX_EXEC_FLAG "--sandbox-exec"

/* Exit status when the launcher failed before bwrap; it has then written one
 * line "sandbox-exec: <reason>" to stderr. */
#define SANDBOX_EXEC_FAILED 125

/* The unprivileged user and group a root worker runs the sandbox as
 * (nobody/nogroup on Debian); also the uid/gid inside every sandbox. */
#define SANDBOX_EXEC_UID 65534
#define SANDBOX_EXEC_GID 65534

/* With --linter: the user a root worker runs linters as instead (no name
 * needed), and their RLIMIT_NPROC. RLIMIT_NPROC counts every process and
 * thread of a user on the host, so linters get a user of their own: a
 * Debug Doctor run near its SANDBOX_NPROC cannot starve them, nor their
 * threads (ESLint's node has about 11) take a run's. Linters run no
 * submitted code, so their budget only has to fit parallel runs. */
#define SANDBOX_EXEC_LINT_UID 65533
#define SANDBOX_LINT_NPROC 1024

/* Where --ro-bind may mount inside the sandbox. */
#define SANDBOX_EXEC_BIND_ROOT "/opt/"

/* Never returns: exits as bwrap did, or with SANDBOX_EXEC_FAILED. The int
 * return type only lets main() tail-call it. */
int sandbox_exec_main(int argc, char **argv);

/* The pid bwrap wrote as "child-pid" in text (what it wrote to FILE, NUL
 * terminated; borrows): the sandbox's first process, the init of its pid
 * namespace, as the launcher's pid namespace numbers it. 0 when there is
 * none, or it is not a number in 2..INT_MAX (1 would be the host's init). */
pid_t sandbox_exec_child_pid(const char *text);

#endif
