/* launcher.c - the sandbox launcher's command line, probe and status. */
#include "worker/launcher.h"

#include "common/clock.h"
#include "common/loop.h"
#include "common/utf8.h"
#include "worker/sandbox_exec.h"
#include "worker/scratch.h"
#include "worker/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Bytes of the status file and of the probe's output read. */
#define LAUNCHER_STATUS_MAX 4096
#define LAUNCHER_PROBE_OUTPUT_MAX 4096

const char *const launcher_env[] = {"PATH=/usr/bin:/bin", NULL};

void launcher_locate(struct launcher *l, const char *bwrap)
{
    char self[PATH_MAX], *slash;

    snprintf(l->bwrap, sizeof l->bwrap, "%s", bwrap);
    snprintf(l->self_exe, sizeof l->self_exe, "/proc/self/exe");
    if (realpath("/proc/self/exe", self) == NULL || (slash = strrchr(self, '/')) == NULL)
        return;
    *slash = '\0';
    if ((size_t)snprintf(l->self_exe, sizeof l->self_exe, "%s/%s", self, LAUNCHER_EXE_NAME) >=
            sizeof l->self_exe ||
        access(l->self_exe, X_OK) != 0)
        snprintf(l->self_exe, sizeof l->self_exe, "/proc/self/exe");
}

void launcher_head(struct strv *sv, const struct launcher *l, const char *stage,
                   const char *status, long cpu_s, long as_mb)
{
    strv_add(sv, l->self_exe);
    strv_add(sv, SANDBOX_EXEC_FLAG);
    strv_add(sv, "--bwrap");
    strv_add(sv, l->bwrap);
    strv_add(sv, "--stage");
    strv_add(sv, stage);
    strv_add(sv, "--status");
    strv_add(sv, status);
    strv_add(sv, "--cpu");
    strv_addf(sv, "%ld", cpu_s);
    strv_add(sv, "--as-mb");
    strv_addf(sv, "%ld", as_mb);
}

/* The status file at path into buf (LAUNCHER_STATUS_MAX + 1 bytes), NUL
 * terminated: empty when there is none. */
static void status_read(const char *path, char *buf)
{
    int fd, got = 0;
    ssize_t n;

    buf[0] = '\0';
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    while (got < LAUNCHER_STATUS_MAX &&
           (n = read(fd, buf + got, (size_t)(LAUNCHER_STATUS_MAX - got))) > 0)
        got += (int)n;
    close(fd);
    buf[got] = '\0';
}

/* What bwrap wrote to the status file at path: 2 "exit-code", 1
 * "child-pid" only, 0 nothing (or no file). */
static int launcher_status(const char *path)
{
    char buf[LAUNCHER_STATUS_MAX + 1];

    status_read(path, buf);
    if (strstr(buf, "\"exit-code\"") != NULL)
        return 2;
    return strstr(buf, "\"child-pid\"") != NULL ? 1 : 0;
}

int launcher_ran(const char *path, int stopped)
{
    int status = launcher_status(path);

    return status == 2 || (status == 1 && stopped);
}

/* The last non-empty line of s[0..len), printable. */
static void last_line(const char *s, size_t len, char *out, size_t cap)
{
    scratch_last_line(s, len, cap - 1, out, cap);
    utf8_sanitize(out);
}

void launcher_failure(const struct loop_proc_result *r, char *why, size_t cap)
{
    char line[LAUNCHER_WHY_MAX - 64];

    last_line(r->err, r->err_len, line, sizeof line);
    if (line[0] == '\0')
        last_line(r->out, r->out_len, line, sizeof line);
    snprintf(why, cap, "sandbox set-up failed (%s %d)%s%s", r->term_signal ? "signal" : "exit",
             r->term_signal ? r->term_signal : r->exit_code, line[0] ? ": " : "", line);
}

int launcher_transient(const struct loop_proc_result *r)
{
    const char *eagain = strerror(EAGAIN);

    return r->term_signal == 0 && r->err != NULL &&
           memmem(r->err, r->err_len, eagain, strlen(eagain)) != NULL;
}

/* Runs the probe's launcher (argv) with stdout and stderr into a pipe,
 * keeping the last bytes of that output in out (*got). Returns the wait
 * status, or -1 with why set (the launcher did not start or did not
 * finish in time). */
static int probe_wait(const struct launcher *l, char *const *argv, char *out, size_t *got,
                      char *why, size_t cap)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int pfd[2], status = 0, rc = -1;
    int64_t deadline;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(why, cap, "cannot start the probe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    /* A session of its own, as loop_spawn gives every run: the launcher
     * counts on it, and a kill of the group reaches the whole sandbox. */
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    errno = posix_spawn(&pid, l->self_exe, &fa, &attr, argv, (char *const *)launcher_env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (errno != 0) {
        snprintf(why, cap, "cannot start the launcher %.*s: %s", utf8_prec(l->self_exe, 160),
                 l->self_exe, strerror(errno));
        close(pfd[0]);
        return -1;
    }
    deadline = clock_mono_ms() + LAUNCHER_PROBE_TIMEOUT_MS;
    for (;;) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        int64_t left = deadline - clock_mono_ms();
        ssize_t n;
        char chunk[512];
        int ready = left > 0 ? poll(&p, 1, (int)left) : 0;

        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(why, cap, "the sandbox probe did not finish in %d ms",
                     LAUNCHER_PROBE_TIMEOUT_MS);
            goto out;
        }
        n = read(pfd[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* Keep the end: the reason is the last line. */
        if (*got + (size_t)n > LAUNCHER_PROBE_OUTPUT_MAX) {
            memmove(out, out + (size_t)n, *got - (size_t)n);
            *got -= (size_t)n;
        }
        memcpy(out + *got, chunk, (size_t)n);
        *got += (size_t)n;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    rc = status;
out:
    close(pfd[0]);
    return rc;
}

int launcher_probe(const struct launcher *l, const char *const *extra, const char *const *cmd,
                   char *why, size_t cap)
{
    char dir[PATH_MAX], stage[PATH_MAX + 16], status_path[PATH_MAX + 16];
    char out[LAUNCHER_PROBE_OUTPUT_MAX + 1], line[LAUNCHER_WHY_MAX - 64];
    struct strv sv = {0};
    size_t got = 0;
    int status, rc = -1;

    if (l->bwrap[0] != '/' || access(l->bwrap, X_OK) != 0) {
        snprintf(why, cap, "bubblewrap not found at %.*s", utf8_prec(l->bwrap, 200), l->bwrap);
        return -1;
    }
    if (scratch_create(SCRATCH_PROBE, dir, sizeof dir) != 0) {
        snprintf(why, cap, "cannot create a staging directory: %s", strerror(errno));
        return -1;
    }
    snprintf(stage, sizeof stage, "%s/%s", dir, LAUNCHER_FILES_DIR);
    snprintf(status_path, sizeof status_path, "%s/status", dir);
    if (mkdir(stage, 0700) != 0) {
        snprintf(why, cap, "cannot create a staging directory: %s", strerror(errno));
        goto out;
    }
    launcher_head(&sv, l, stage, status_path, LAUNCHER_PROBE_CPU_S,
                  cmd != NULL ? 0 : LAUNCHER_PROBE_MEMORY_MB);
    for (; extra != NULL && *extra != NULL; extra++)
        strv_add(&sv, *extra);
    strv_add(&sv, "--");
    if (cmd == NULL)
        strv_add(&sv, "true");
    for (; cmd != NULL && *cmd != NULL; cmd++)
        strv_add(&sv, *cmd);
    if (sv.oom) {
        snprintf(why, cap, "cannot start the probe: out of memory");
        goto out;
    }
    status = probe_wait(l, sv.v, out, &got, why, cap);
    if (status < 0)
        goto out;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && launcher_status(status_path) == 2) {
        rc = 0;
        goto out;
    }
    last_line(out, got, line, sizeof line);
    snprintf(why, cap, "sandbox probe failed (%s %d)%s%s",
             WIFSIGNALED(status) ? "signal" : "exit",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), line[0] ? ": " : "",
             line);
out:
    strv_free(&sv);
    scratch_remove(dir);
    return rc;
}
