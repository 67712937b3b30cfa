/* test_scratch.c - scratch directories (worker/scratch.c): named after the
 * process that made them, and swept once that process is gone, and only
 * then: never one of a running process, never a link or a file, never a
 * name that is not exactly prefix-<pid>-XXXXXX. Works in a private $TMPDIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker/scratch.h"

struct fx {
    char tmp[64];                   /* the private $TMPDIR */
    pid_t dead;                     /* a process that has exited and been reaped */
};

static int exists(const struct fx *f, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", f->tmp, name);
    return lstat(path, &st) == 0;
}

static void make_dir(const struct fx *f, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s/%s", f->tmp, name);
    assert_int_equal(mkdir(path, 0700), 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    pid_t pid;

    assert_non_null(f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/test-scratch-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    setenv("TMPDIR", f->tmp, 1);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    f->dead = pid;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    scratch_remove(f->tmp);
    unsetenv("TMPDIR");
    free(f);
    return 0;
}

static void test_named_after_its_process(void **state)
{
    struct fx *f = *state;
    char dir[PATH_MAX], want[PATH_MAX];
    struct stat st;

    assert_int_equal(scratch_create(SCRATCH_LINT, dir, sizeof dir), 0);
    snprintf(want, sizeof want, "%s/%s-%ld-", f->tmp, SCRATCH_LINT, (long)getpid());
    assert_int_equal(strncmp(dir, want, strlen(want)), 0);
    assert_int_equal(strlen(dir), strlen(want) + 6);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    /* Ours, and we run: not swept. */
    assert_int_equal(scratch_sweep(SCRATCH_LINT), 0);
    assert_int_equal(stat(dir, &st), 0);
    scratch_remove(dir);
    assert_string_equal(dir, "");
}

static void test_only_the_dead_are_swept(void **state)
{
    struct fx *f = *state;
    char dead[96], mine[96], init[96], link[96], file[96], other[96], path[PATH_MAX];
    static const char *const odd[] = {
        "codeinsight-lint-abc-Ab12Cd", "codeinsight-lint-0123-Ab12Cd",
        "codeinsight-lint--5-Ab12Cd", "codeinsight-lintx-77-Ab12Cd", "codeinsight-lint-77-Ab12C",
        "codeinsight-lint-77-Ab12Cde", "codeinsight-lint-77", "codeinsight-lint-99999999999-Ab12Cd",
    };
    int fd;

    snprintf(dead, sizeof dead, "%s-%ld-Ab12Cd", SCRATCH_LINT, (long)f->dead);
    snprintf(mine, sizeof mine, "%s-%ld-Ef34Gh", SCRATCH_LINT, (long)getpid());
    snprintf(init, sizeof init, "%s-1-Ij56Kl", SCRATCH_LINT);
    snprintf(link, sizeof link, "%s-%ld-Mn78Op", SCRATCH_LINT, (long)f->dead);
    snprintf(file, sizeof file, "%s-%ld-Qr90St", SCRATCH_LINT, (long)f->dead);
    snprintf(other, sizeof other, "%s-%ld-Uv12Wx", SCRATCH_SANDBOX, (long)f->dead);
    make_dir(f, dead);
    make_dir(f, mine);
    make_dir(f, init);
    make_dir(f, other);
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        make_dir(f, odd[i]);
    /* What the dead one held goes with it, links not followed. */
    snprintf(path, sizeof path, "%s/%s/files", f->tmp, dead);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/%s/files/main.py", f->tmp, dead);
    assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
    close(fd);
    snprintf(path, sizeof path, "%s/%s/files/out", f->tmp, dead);
    assert_int_equal(symlink(f->tmp, path), 0);
    /* A link and a file named like a dead process's directory stay. */
    snprintf(path, sizeof path, "%s/%s", f->tmp, link);
    assert_int_equal(symlink(mine, path), 0);
    snprintf(path, sizeof path, "%s/%s", f->tmp, file);
    assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
    close(fd);

    assert_int_equal(scratch_sweep(SCRATCH_LINT), 1);
    assert_false(exists(f, dead));
    assert_true(exists(f, mine) && exists(f, init) && exists(f, link) && exists(f, file));
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        if (!exists(f, odd[i]))
            fail_msg("%s was swept", odd[i]);
    /* Another prefix is another sweep; then nothing is left to do. */
    assert_true(exists(f, other));
    assert_int_equal(scratch_sweep(SCRATCH_SANDBOX), 1);
    assert_false(exists(f, other));
    assert_int_equal(scratch_sweep(SCRATCH_LINT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_named_after_its_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_the_dead_are_swept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
