/* sandbox_exec.c - the sandbox launcher: limits, user, seccomp, then bwrap. */
#include "worker/sandbox_exec.h"

#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* --env pairs and --ro-bind mounts the launcher accepts. */
#define EXEC_ENV_MAX 8
#define EXEC_BINDS_MAX 4
/* Descriptors bwrap opens for itself while setting up, on top of ours. */
#define EXEC_FD_RESERVE 16
#define EXEC_NUM_LEN 16
/* Bytes of the status file the keeper reads: "child-pid" is its first line. */
#define EXEC_STATUS_MAX 4096
/* The sandbox's oom_score_adj: the most, so that under memory pressure (a
 * container's limit, the host's) the kernel kills a sandboxed run first,
 * never the worker beside it. */
#define EXEC_OOM_SCORE_ADJ "1000"

struct exec_args {
    const char *bwrap;
    const char *stage;
    const char *status;
    const char *bind_src[EXEC_BINDS_MAX];
    const char *bind_dest[EXEC_BINDS_MAX];
    int nbinds;
    const char *files[SANDBOX_FILES_MAX];
    int nfiles;
    const char *env[EXEC_ENV_MAX];
    int nenv;
    long cpu_s;
    long as_mb;
    int linter;                 /* --linter: the linters' user and process budget */
    char **cmd;                 /* NULL-terminated, after "--" */
};

/* The bwrap command line being built. */
struct exec_argv {
    char **v;
    int n, cap;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Writes "sandbox-exec: <reason>" and exits. No allocation: the address-space
 * limit may already be in force. */
static void fail(const char *fmt, ...)
{
    static char line[512];
    va_list ap;
    int n = snprintf(line, sizeof line, "sandbox-exec: ");

    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = (int)strlen(line);
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* Nothing left to tell. */
    }
    _exit(SANDBOX_EXEC_FAILED);
}

static long parse_long(const char *s, long max, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
        fail("bad %s: %s", what, s);
    return v;
}

/* 1 when rel is relative with no empty, "." or ".." segment. */
static int rel_ok(const char *rel)
{
    const char *seg = rel;

    if (rel[0] == '\0' || rel[0] == '/')
        return 0;
    for (const char *p = rel;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            seg = p + 1;
        }
    }
}

static void parse_args(int argc, char **argv, struct exec_args *a)
{
    int i;

    memset(a, 0, sizeof *a);
    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) {
            a->cmd = argv + i + 1;
            break;
        }
        if (strcmp(o, "--linter") == 0) {
            a->linter = 1;
            continue;
        }
        if (i + 1 >= argc)
            fail("option %s needs a value", o);
        if (strcmp(o, "--bwrap") == 0) {
            a->bwrap = argv[++i];
        } else if (strcmp(o, "--stage") == 0) {
            a->stage = argv[++i];
        } else if (strcmp(o, "--status") == 0) {
            a->status = argv[++i];
        } else if (strcmp(o, "--ro-bind") == 0) {
            if (i + 2 >= argc || a->nbinds == EXEC_BINDS_MAX)
                fail("bad --ro-bind");
            a->bind_src[a->nbinds] = argv[++i];
            a->bind_dest[a->nbinds++] = argv[++i];
        } else if (strcmp(o, "--file") == 0) {
            if (a->nfiles == SANDBOX_FILES_MAX)
                fail("more than %d files", SANDBOX_FILES_MAX);
            a->files[a->nfiles++] = argv[++i];
        } else if (strcmp(o, "--env") == 0) {
            if (a->nenv == EXEC_ENV_MAX || strchr(argv[i + 1], '=') == NULL)
                fail("bad --env");
            a->env[a->nenv++] = argv[++i];
        } else if (strcmp(o, "--cpu") == 0) {
            a->cpu_s = parse_long(argv[++i], 86400, "--cpu");
        } else if (strcmp(o, "--as-mb") == 0) {
            a->as_mb = parse_long(argv[++i], 1L << 30, "--as-mb");
        } else {
            fail("unknown option %s", o);
        }
    }
    if (a->bwrap == NULL || a->bwrap[0] != '/' || a->stage == NULL || a->stage[0] != '/' ||
        a->status == NULL || a->status[0] != '/')
        fail("--bwrap, --stage and --status need absolute paths");
    for (int k = 0; k < a->nbinds; k++)
        if (a->bind_src[k][0] != '/' || !rel_ok(a->bind_src[k] + 1) ||
            strncmp(a->bind_dest[k], SANDBOX_EXEC_BIND_ROOT, strlen(SANDBOX_EXEC_BIND_ROOT)) != 0 ||
            !rel_ok(a->bind_dest[k] + strlen(SANDBOX_EXEC_BIND_ROOT)))
            fail("bad --ro-bind %s %s", a->bind_src[k], a->bind_dest[k]);
    if (a->cmd == NULL || a->cmd[0] == NULL)
        fail("no command after --");
    if (a->cpu_s == 0)
        fail("--cpu is required");
    for (int k = 0; k < a->nfiles; k++)
        if (!rel_ok(a->files[k]))
            fail("bad file path");
}

static void push(struct exec_argv *av, const char *s)
{
    if (av->n + 2 > av->cap) {
        int cap = av->cap ? av->cap * 2 : 128;
        char **v = realloc(av->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            fail("out of memory");
        av->v = v;
        av->cap = cap;
    }
    av->v[av->n++] = (char *)s;
    av->v[av->n] = NULL;
}

static void push2(struct exec_argv *av, const char *a, const char *b)
{
    push(av, a);
    push(av, b);
}

static void push3(struct exec_argv *av, const char *a, const char *b, const char *c)
{
    push(av, a);
    push(av, b);
    push(av, c);
}

/* "/work/" + rel, or its first n bytes. Owned by the argv until exec. */
static char *work_path(const char *rel, size_t n)
{
    char *p = malloc(n + sizeof "/work/");

    if (p == NULL)
        fail("out of memory");
    memcpy(p, "/work/", 6);
    memcpy(p + 6, rel, n);
    p[6 + n] = '\0';
    return p;
}

static char *num_str(int n)
{
    char *s = malloc(EXEC_NUM_LEN);

    if (s == NULL)
        fail("out of memory");
    snprintf(s, EXEC_NUM_LEN, "%d", n);
    return s;
}

static char *size_str(long mb)
{
    char *s = malloc(32);

    if (s == NULL)
        fail("out of memory");
    snprintf(s, 32, "%lld", (long long)mb * 1024 * 1024);
    return s;
}

/* 1 when dir (n bytes) is the parent directory of an earlier file. */
static int dir_seen(const struct exec_args *a, int upto, const char *dir, size_t n)
{
    for (int k = 0; k < upto; k++) {
        const char *f = a->files[k];
        if (strncmp(f, dir, n) == 0 && f[n] == '/')
            return 1;
    }
    return 0;
}

/* Mounts a private tmpfs of mb MB with mode perms on dest. */
static void push_tmpfs(struct exec_argv *av, const char *perms, long mb, const char *dest)
{
    push2(av, "--perms", perms);
    push2(av, "--size", size_str(mb));
    push2(av, "--tmpfs", dest);
}

/* The file system: read-only system, private tmpfs mounts, our files. */
static void bwrap_mounts(struct exec_argv *av, const struct exec_args *a, const int *fds)
{
    /* /etc: cc -> gcc, the dynamic linker's cache, the time zone; nothing else. */
    static const char *const system[] = {
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/sbin", "/sbin",
        "--perms", "0755", "--dir", "/etc",
        "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
        "--ro-bind-try", "/etc/localtime", "/etc/localtime",
        "--proc", "/proc",
        "--dev", "/dev",
    };

    for (size_t i = 0; i < sizeof system / sizeof system[0]; i++)
        push(av, system[i]);
    push_tmpfs(av, "01777", SANDBOX_SHM_MB, "/dev/shm");
    push_tmpfs(av, "0755", SANDBOX_WORK_MB, "/work");
    push_tmpfs(av, "01777", SANDBOX_TMP_MB, "/tmp");
    for (int k = 0; k < a->nfiles; k++) {
        const char *f = a->files[k];
        for (const char *s = strchr(f, '/'); s != NULL; s = strchr(s + 1, '/')) {
            size_t n = (size_t)(s - f);
            if (dir_seen(a, k, f, n))
                continue;
            push2(av, "--perms", "0755");
            push2(av, "--dir", work_path(f, n));
        }
        push2(av, "--perms", "0644");
        push3(av, "--file", num_str(fds[k]), work_path(f, strlen(f)));
    }
    /* Read-only trees (ESLint's install), under SANDBOX_EXEC_BIND_ROOT. */
    for (int k = 0; k < a->nbinds; k++)
        push3(av, "--ro-bind", a->bind_src[k], a->bind_dest[k]);
    /* Writable: /work, /tmp, /dev/shm only. */
    push2(av, "--remount-ro", "/dev");
    push2(av, "--remount-ro", "/");
}

static void bwrap_argv(struct exec_argv *av, const struct exec_args *a, const int *fds,
                       int seccomp_fd, int status_fd)
{
    push(av, a->bwrap);
    push(av, "--unshare-all");
    push(av, "--unshare-user");
    push(av, "--disable-userns");
    push(av, "--die-with-parent");
    /* Its own session and process group: kill(0, ...) or a group signal
     * from the program reaches the sandbox only, never the launcher and
     * the worker's view of the run; and no TIOCSTI into a terminal. */
    push(av, "--new-session");
    push2(av, "--cap-drop", "ALL");
    push2(av, "--uid", num_str(SANDBOX_EXEC_UID));
    push2(av, "--gid", num_str(SANDBOX_EXEC_GID));
    push2(av, "--hostname", "sandbox");
    bwrap_mounts(av, a, fds);
    push2(av, "--seccomp", num_str(seccomp_fd));
    push2(av, "--json-status-fd", num_str(status_fd));
    push2(av, "--chdir", "/work");
    push(av, "--clearenv");
    push3(av, "--setenv", "PATH", "/usr/bin:/bin");
    push3(av, "--setenv", "HOME", "/work");
    push3(av, "--setenv", "LANG", "C.UTF-8");
    push3(av, "--setenv", "TMPDIR", "/tmp");
    for (int k = 0; k < a->nenv; k++) {
        const char *eq = strchr(a->env[k], '=');
        char *name = strndup(a->env[k], (size_t)(eq - a->env[k]));
        if (name == NULL)
            fail("out of memory");
        push3(av, "--setenv", name, eq + 1);
    }
    push(av, "--");
    for (char **c = a->cmd; *c != NULL; c++)
        push(av, *c);
}

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp, char *why, size_t cap)
{
    int nr = seccomp_syscall_resolve_name(name);
    int rc;

    if (nr == __NR_SCMP_ERROR) {
        snprintf(why, cap, "seccomp: unknown system call %s", name);
        return -1;
    }
    rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
    if (rc != 0) {
        snprintf(why, cap, "seccomp rule for %s: %s", name, strerror(-rc));
        return -1;
    }
    return 0;
}

static int seccomp_rules(scmp_filter_ctx ctx, char *why, size_t cap)
{
    static const char *const denied[] = {
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
        "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
        "fspick", "move_mount", "open_tree", "mount_setattr", "unshare", "setns",
        "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "reboot", "swapon", "swapoff", "iopl", "ioperm", "acct", "quotactl", "quotactl_fd",
        "syslog",
        /* Memory no process holds, outside RLIMIT_AS and the tmpfs caps:
         * the run's IPC namespace has no practical limit on either. */
        "shmget", "msgget",
    };
    static const char *const absent[] = {
        "clone3", "io_uring_setup", "io_uring_enter", "io_uring_register",
        /* Anonymous files outside the tmpfs caps (RLIMIT_FSIZE each, times
         * RLIMIT_NOFILE, times RLIMIT_NPROC); libraries fall back to /tmp. */
        "memfd_create",
    };
    static const uint64_t ns_flags[] = {
        CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
        CLONE_NEWPID, CLONE_NEWNET,
    };
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    struct scmp_arg_cmp c;

    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        if (rule(ctx, eperm, denied[i], 0, NULL, why, cap) != 0)
            return -1;
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), absent[i], 0, NULL, why, cap) != 0)
            return -1;
    c = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
    if (rule(ctx, eperm, "socket", 1, &c, why, cap) != 0)
        return -1;
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
        c = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
        if (rule(ctx, eperm, "clone", 1, &c, why, cap) != 0)
            return -1;
    }
    /* personality: the kernel reads 32 bits. Allowed: 0 (PER_LINUX), 8
     * (PER_LINUX32), 0xffffffff (query). One comparison per rule, so: deny
     * "bit 31 clear and bit k set" for every k but 3, and "bit 31 set and bit
     * k clear" for every k. */
    for (unsigned k = 0; k < 31; k++) {
        uint64_t bit = 1ULL << k, mask = bit | 0x80000000ULL;
        if (k != 3) {
            c = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, bit);
            if (rule(ctx, eperm, "personality", 1, &c, why, cap) != 0)
                return -1;
        }
        c = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 0x80000000ULL);
        if (rule(ctx, eperm, "personality", 1, &c, why, cap) != 0)
            return -1;
    }
    return 0;
}

/* Writes the filter (see sandbox_exec.h) as BPF to a new memfd; returns it. */
static int seccomp_memfd(void)
{
    char why[200];
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int fd, rc;

    if (ctx == NULL)
        fail("seccomp_init failed");
    if (seccomp_rules(ctx, why, sizeof why) != 0)
        fail("%s", why);
    fd = memfd_create("sandbox-seccomp", 0);
    if (fd < 0)
        fail("memfd_create: %s", strerror(errno));
    rc = seccomp_export_bpf(ctx, fd);
    if (rc != 0)
        fail("seccomp_export_bpf: %s", strerror(-rc));
    seccomp_release(ctx);
    if (lseek(fd, 0, SEEK_SET) != 0)
        fail("lseek: %s", strerror(errno));
    return fd;
}

/* Makes this process, and so everything it starts, the OOM killer's first
 * choice (EXEC_OOM_SCORE_ADJ). Before the change of user: the new user
 * may not write this process's /proc files (it is not dumpable then).
 * Raising the score needs no privilege. */
static void oom_first(void)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        fail("open /proc/self/oom_score_adj: %s", strerror(errno));
    n = write(fd, EXEC_OOM_SCORE_ADJ, sizeof EXEC_OOM_SCORE_ADJ - 1);
    if (n != (ssize_t)(sizeof EXEC_OOM_SCORE_ADJ - 1))
        fail("write /proc/self/oom_score_adj: %s", n < 0 ? strerror(errno) : "short write");
    close(fd);
}

/* Root hands the sandbox to nobody: RLIMIT_NPROC does not bind root. */
static void drop_privileges(uid_t uid)
{
    if (getuid() != 0 && geteuid() != 0)
        return;
    if (setgroups(0, NULL) != 0)
        fail("setgroups: %s", strerror(errno));
    if (setresgid(SANDBOX_EXEC_GID, SANDBOX_EXEC_GID, SANDBOX_EXEC_GID) != 0)
        fail("setresgid: %s", strerror(errno));
    if (setresuid(uid, uid, uid) != 0)
        fail("setresuid: %s", strerror(errno));
    if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0 || setuid(0) == 0)
        fail("still root after dropping privileges");
}

/* Lowers a limit; never raises the hard one. */
static void limit(int resource, const char *name, rlim_t soft, rlim_t hard)
{
    struct rlimit rl;

    if (getrlimit(resource, &rl) != 0)
        fail("getrlimit %s: %s", name, strerror(errno));
    if (rl.rlim_max != RLIM_INFINITY && hard > rl.rlim_max)
        hard = rl.rlim_max;
    if (soft > hard)
        soft = hard;
    rl.rlim_cur = soft;
    rl.rlim_max = hard;
    if (setrlimit(resource, &rl) != 0)
        fail("setrlimit %s: %s", name, strerror(errno));
}

/* ---- the keeper ---- */

pid_t sandbox_exec_child_pid(const char *text)
{
    const char *p = strstr(text, "\"child-pid\"");
    char *end;
    long pid;

    if (p == NULL)
        return 0;
    p += sizeof "\"child-pid\"" - 1;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p++ != ':')
        return 0;
    errno = 0;
    pid = strtol(p, &end, 10);
    if (errno != 0 || end == p || pid <= 1 || pid > INT_MAX)
        return 0;
    return (pid_t)pid;
}

/* Kills and reaps the sandbox's init when bwrap, gone (reaped), left it
 * behind: it is then this process's child, the keeper being a child
 * subreaper, and the status file (status_fd, read-only) names it. Only a
 * child is killed: its pid stays its own until this process reaps it, so
 * no pid reuse can redirect the kill; an init bwrap reaped itself, or a
 * "child-pid" that was never bwrap's child, is left alone. */
static void keeper_reap_init(int status_fd)
{
    static char text[EXEC_STATUS_MAX + 1];
    ssize_t n = pread(status_fd, text, EXEC_STATUS_MAX, 0);
    pid_t init;
    siginfo_t si;

    text[n > 0 ? n : 0] = '\0';
    init = sandbox_exec_child_pid(text);
    if (init == 0)
        return;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)init, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return;
    kill(init, SIGKILL);
    while (waitpid(init, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Waits for bwrap (pid), then leaves as it did. SIGTERM (the worker stops
 * the run, or it is gone: the parent-death signal) kills bwrap instead,
 * then the rest. Either
 * way, once bwrap is reaped the sandbox's init it may have orphaned is
 * killed (keeper_reap_init), before the keeper exits.
 *
 * After a SIGTERM, in order: bwrap first, alone, and reaped, so that its
 * status file is final and its child is the keeper's; then the init by the
 * pid bwrap wrote there: out of the group (bwrap --new-session) and before
 * bwrap's init armed --die-with-parent, nothing else reaches it, and it
 * would run its program to its end; last the process group, the keeper
 * with it, which takes a child bwrap never released (no "child-pid"): that
 * one is still in the group. bwrap writes "child-pid" before it lets its
 * child go on (an eventfd the child blocks on and holds open itself, so
 * bwrap's death does not release it either), and the child calls setsid()
 * after that, late in its set-up. */
static void keep(pid_t pid, int status_fd, const sigset_t *set) __attribute__((noreturn));
static void keep(pid_t pid, int status_fd, const sigset_t *set)
{
    int status = 0, sig;

    for (;;) {
        sig = sigwaitinfo(set, NULL);
        if (sig == SIGTERM) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        if (sig == SIGCHLD && waitpid(pid, &status, WNOHANG) == pid)
            break;
    }
    keeper_reap_init(status_fd);
    if (sig == SIGTERM) {
        kill(0, SIGKILL);
        _exit(128 + SIGKILL);
    }
    if (WIFSIGNALED(status)) {
        sigset_t one;
        signal(WTERMSIG(status), SIG_DFL);
        sigemptyset(&one);
        sigaddset(&one, WTERMSIG(status));
        sigprocmask(SIG_UNBLOCK, &one, NULL);
        raise(WTERMSIG(status));
        _exit(128 + WTERMSIG(status));
    }
    _exit(WEXITSTATUS(status));
}

/* Closes every descriptor from 3 up but keep. */
static void close_all_but(int keep)
{
    if (keep > 3)
        close_range(3, (unsigned)keep - 1, 0);
    close_range((unsigned)keep + 1, ~0U, 0);
}

/* Forks: the child returns, to exec bwrap; this process stays as its keeper
 * and never returns. status_fd: the status file, read-only, close-on-exec
 * (opened before the change of user, which may have taken the right to open
 * it); the keeper keeps it, and closes every other descriptor.
 *
 * The worker spawned the launcher as the leader of a session and process
 * group of its own (common/loop.c), so the keeper, bwrap and the sandbox's
 * first process until it leaves for its own session (bwrap --new-session,
 * late in its set-up) are in this group: a kill of the group (the worker's,
 * on a timeout or a cancel, after LAUNCHER_KILL_GRACE_MS) reaches them. The
 * sandbox's init, once in its own session, is killed by the keeper (keep),
 * on the worker's SIGTERM (a timeout, a cancel), when the worker dies, or
 * when bwrap ends: bwrap's --die-with-parent alone does not do it, a child whose
 * bwrap dies while its parent-death signal is not set is orphaned and its
 * program runs on (40 cancels at moments spread over a sandbox's start left
 * 15 processes running, before the group kill).
 *
 * To kill the init by its pid, the keeper needs both: the status file,
 * which names it (a process has no portable way to list its live children:
 * /proc/PID/task/TID/children is a kernel option), held open since before
 * the change of user; and to be its parent, a child subreaper
 * (PR_SET_CHILD_SUBREAPER, set before the fork, so bwrap is born under it)
 * to which bwrap's orphaned child falls: an unreaped child's pid cannot be
 * taken by another process (see keeper_reap_init). A pid from the file
 * alone could, by the time of the kill, be another's, even another
 * sandbox's, which runs as the same user. */
static void keeper_start(pid_t worker, int status_fd)
{
    sigset_t set, old;
    pid_t keeper = getpid(), pid;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
        fail("sigprocmask: %s", strerror(errno));
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
    /* After the change of user, which clears it. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0)
        fail("PR_SET_PDEATHSIG: %s", strerror(errno));
    if (getppid() != worker)
        fail("the worker is gone");
    pid = fork();
    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid > 0) {
        close_all_but(status_fd);
        keep(pid, status_fd, &set);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        fail("PR_SET_PDEATHSIG: %s", strerror(errno));
    if (getppid() != keeper)
        fail("the keeper is gone");
    if (sigprocmask(SIG_SETMASK, &old, NULL) != 0)
        fail("sigprocmask: %s", strerror(errno));
}

int sandbox_exec_main(int argc, char **argv)
{
    static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
    struct exec_args a;
    struct exec_argv av = {0};
    int fds[SANDBOX_FILES_MAX];
    int stage, status, status_read, filter, top;
    pid_t worker = getppid();

    /* The worker's sockets and files stay with the worker. */
    if (close_range(3, ~0U, 0) != 0)
        fail("close_range: %s", strerror(errno));
    parse_args(argc, argv, &a);

    stage = open(a.stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (stage < 0)
        fail("open staging directory: %s", strerror(errno));
    status = open(a.status, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (status < 0)
        fail("create status file: %s", strerror(errno));
    /* The keeper's, to find the sandbox's init: bwrap gets status only. */
    status_read = open(a.status, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (status_read < 0)
        fail("open status file: %s", strerror(errno));
    top = status_read;
    for (int k = 0; k < a.nfiles; k++) {
        fds[k] = openat(stage, a.files[k], O_RDONLY | O_NOFOLLOW);
        if (fds[k] < 0)
            fail("open staged file %d: %s", k, strerror(errno));
        top = fds[k] > top ? fds[k] : top;
    }
    close(stage);
    filter = seccomp_memfd();
    top = filter > top ? filter : top;
    if (top >= SANDBOX_NOFILE - EXEC_FD_RESERVE)
        fail("too many descriptors for RLIMIT_NOFILE %d", SANDBOX_NOFILE);
    bwrap_argv(&av, &a, fds, filter, status);

    oom_first();
    drop_privileges(a.linter ? SANDBOX_EXEC_LINT_UID : SANDBOX_EXEC_UID);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    keeper_start(worker, status_read);

    /* Last: an ASan worker binary needs its address space until the exec. */
    limit(RLIMIT_CORE, "CORE", 0, 0);
    limit(RLIMIT_CPU, "CPU", (rlim_t)a.cpu_s, (rlim_t)a.cpu_s + 1);
    limit(RLIMIT_NPROC, "NPROC", a.linter ? SANDBOX_LINT_NPROC : SANDBOX_NPROC,
          a.linter ? SANDBOX_LINT_NPROC : SANDBOX_NPROC);
    limit(RLIMIT_FSIZE, "FSIZE", (rlim_t)SANDBOX_FSIZE_MB << 20, (rlim_t)SANDBOX_FSIZE_MB << 20);
    limit(RLIMIT_NOFILE, "NOFILE", SANDBOX_NOFILE, SANDBOX_NOFILE);
    if (a.as_mb > 0)
        limit(RLIMIT_AS, "AS", (rlim_t)a.as_mb << 20, (rlim_t)a.as_mb << 20);
    execve(a.bwrap, av.v, envp);
    fail("exec %s: %s", a.bwrap, strerror(errno));
}
