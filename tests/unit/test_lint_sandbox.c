/* test_lint_sandbox.c - linters in a sandbox of their own (worker/lint.h),
 * with the real linters and the real bubblewrap: findings as without one,
 * ESLint from its read-only mount, no sight of the worker's files, and the
 * three settings of CODEINSIGHT_LINT_SANDBOX when the probe fails.
 *
 * The binary is its own launcher, as the worker is (sbx_init). Without bwrap
 * and user namespaces the sandboxed cases skip, saying why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"
#include "common/loop.h"
#include "tests/unit/sandbox_fx.h"
#include "worker/launcher.h"
#include "worker/lint.h"
#include "worker/sandbox.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_LINT_GUARD_MS 120000

struct lfx {
    struct loop *loop;
    struct loop_timer *guard;
    struct config cfg;
    struct lint_pool *pool;
    struct lint_result res;
    int done, guard_fired;
};

static void on_guard(void *arg)
{
    struct lfx *f = arg;

    f->guard_fired = 1;
    loop_stop(f->loop);
}

static void on_lint(void *arg, struct lint_result *res)
{
    struct lfx *f = arg;

    f->res = *res;
    f->done = 1;
    loop_stop(f->loop);
}

static struct lfx *lfx_new(long mode, const char *bwrap);

/* A pool in the real sandbox (mode 1); skips the test without one. */
static struct lfx *lfx_sandboxed(void)
{
    if (sbx_no_sandbox())
        skip();
    return lfx_new(1, NULL);
}

/* Replaces f's pool by one made with f->cfg, mode and eslint_dir (NULL:
 * as it is), over bwrap (NULL: the real one). */
static void lfx_repool(struct lfx *f, long mode, const char *eslint_dir, const char *bwrap)
{
    struct launcher where = {"/proc/self/exe", SANDBOX_BWRAP};
    struct err e;

    lint_pool_free(f->pool);
    f->cfg.lint_sandbox = mode;
    if (eslint_dir != NULL)
        snprintf(f->cfg.eslint_dir, sizeof f->cfg.eslint_dir, "%s", eslint_dir);
    if (bwrap != NULL)
        snprintf(where.bwrap, sizeof where.bwrap, "%s", bwrap);
    f->pool = lint_pool_new(f->loop, &f->cfg, &where, &e);
    assert_non_null(f->pool);
}

/* A pool with mode (CODEINSIGHT_LINT_SANDBOX) over bwrap (NULL: the real one). */
static struct lfx *lfx_new(long mode, const char *bwrap)
{
    struct lfx *f = calloc(1, sizeof *f);
    char cwd[PATH_MAX];
    struct err e;

    assert_non_null(f);
    assert_non_null(getcwd(cwd, sizeof cwd));
    f->cfg.lint_parallel = 2;
    f->cfg.lint_timeout_ms = 60000;
    f->cfg.lint_output_max = 1 << 20;
    f->cfg.lint_memory_mb = 2048;
    snprintf(f->cfg.eslint_dir, sizeof f->cfg.eslint_dir, "%.*s/deploy/eslint",
             (int)sizeof f->cfg.eslint_dir - 32, cwd);
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    f->guard = loop_timer_new(f->loop, on_guard, f);
    assert_non_null(f->guard);
    lfx_repool(f, mode, NULL, bwrap);
    return f;
}

static void lfx_free(struct lfx *f)
{
    lint_result_cleanup(&f->res);
    lint_pool_free(f->pool);
    loop_timer_free(f->guard);
    loop_free(f->loop);
    free(f);
}

/* Lints one file and waits for the result (f->res). */
static void lint1(struct lfx *f, const char *path, const char *code)
{
    struct err e;

    lint_result_cleanup(&f->res);
    f->done = 0;
    assert_non_null(lint_start(f->pool, path, code, strlen(code), NULL, on_lint, f, &e));
    loop_timer_start(f->guard, T_LINT_GUARD_MS, 0);
    while (!f->done && !f->guard_fired)
        loop_run(f->loop);
    loop_timer_stop(f->guard);
    assert_true(f->done);
}

/* The record of tool in f->res.linters, or fails. */
static const cJSON *linter(const struct lfx *f, const char *tool)
{
    const cJSON *l;

    cJSON_ArrayForEach(l, f->res.linters) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(l, "tool");
        if (cJSON_IsString(t) && strcmp(t->valuestring, tool) == 0)
            return l;
    }
    fail_msg("no record of %s", tool);
    return NULL;
}

static const char *status_of(const struct lfx *f, const char *tool)
{
    return cJSON_GetObjectItemCaseSensitive(linter(f, tool), "status")->valuestring;
}

static int has_rule(const struct lfx *f, const char *rule)
{
    const cJSON *x;

    cJSON_ArrayForEach(x, f->res.findings) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(x, "rule_id");
        if (cJSON_IsString(r) && strcmp(r->valuestring, rule) == 0)
            return 1;
    }
    return 0;
}

static int notes_hold(const struct lfx *f, const char *needle)
{
    const cJSON *n;

    cJSON_ArrayForEach(n, f->res.notes)
        if (cJSON_IsString(n) && strstr(n->valuestring, needle) != NULL)
            return 1;
    return 0;
}

static void test_python_findings_in_the_sandbox(void **state)
{
    struct lfx *f;

    (void)state;
    f = lfx_sandboxed();
    assert_null(lint_pool_unsandboxed(f->pool));
    lint1(f, "pkg/./util.py", "import os\n\n\ndef f(x):\n    return x == None\n");
    assert_string_equal(status_of(f, "flake8"), "ok");
    assert_string_equal(status_of(f, "pylint"), "ok");
    assert_true(has_rule(f, "F401"));       /* flake8: os imported, unused */
    assert_true(has_rule(f, "C0121"));      /* pylint: comparison to None */
    lfx_free(f);
}

/* 1 when `make deps` installed ESLint under f's eslint_dir; else says so. */
static int eslint_installed(const struct lfx *f)
{
    char bin[PATH_MAX + 64];

    snprintf(bin, sizeof bin, "%s/node_modules/.bin/eslint", f->cfg.eslint_dir);
    if (access(bin, X_OK) == 0)
        return 1;
    print_message("skipped: ESLint is not installed at %s (make deps installs it)\n", bin);
    return 0;
}

static void test_eslint_from_its_mount(void **state)
{
    struct lfx *f;

    (void)state;
    f = lfx_sandboxed();
    if (!eslint_installed(f)) {
        lfx_free(f);
        skip();
    }
    lint1(f, "web/app.ts", "const unusedThing: number = 1;\nexport {};\n");
    assert_string_equal(status_of(f, "eslint"), "ok");
    assert_true(has_rule(f, "@typescript-eslint/no-unused-vars"));
    lfx_free(f);
}

/* ESLint's install under a directory the sandbox's user cannot enter (a
 * clone in root's 0700 home): bwrap cannot mount it there. The start-up
 * probe finds out, and ESLint alone runs without a sandbox (mode 1) or
 * not at all (mode 2); flake8 stays sandboxed. */
static void test_eslint_in_a_private_directory(void **state)
{
    char dir[] = "/tmp/ci-lint-private-XXXXXX", cmd[PATH_MAX + 128];
    struct lfx *f;

    (void)state;
    f = lfx_sandboxed();
    if (!eslint_installed(f) || geteuid() != 0) {
        lfx_free(f);
        skip();         /* a worker that is not root keeps its uid: nothing is closed */
    }
    assert_non_null(mkdtemp(dir));      /* 0700 */
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s/eslint'", f->cfg.eslint_dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/eslint", dir);
    for (long mode = 1; mode <= 2; mode++) {
        lfx_repool(f, mode, cmd, NULL);
        assert_non_null(lint_pool_unsandboxed(f->pool));
        assert_non_null(strstr(lint_pool_unsandboxed(f->pool),
                               "ESLint cannot run from its install in the sandbox"));
        assert_string_equal(lint_pool_unsandboxed_linters(f->pool), "eslint");
        lint1(f, "a.js", "var unusedThing = 1;\n");
        if (mode == 1) {
            assert_string_equal(status_of(f, "eslint"), "ok");
            assert_true(has_rule(f, "no-unused-vars"));
        } else {
            assert_string_equal(status_of(f, "eslint"), "failed");
            assert_true(notes_hold(f, "CODEINSIGHT_LINT_SANDBOX=2"));
            assert_int_equal(cJSON_GetArraySize(f->res.findings), 0);
        }
        lint1(f, "a.py", "import os\n");      /* the others stay sandboxed */
        assert_string_equal(status_of(f, "flake8"), "ok");
        assert_true(has_rule(f, "F401"));
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    lfx_free(f);
}

/* ESLint's install in a directory others may enter, but itself closed to
 * them (copied under umask 027): the probe runs ESLint, not only the mount,
 * so ESLint runs unsandboxed instead of failing every lint. */
static void test_eslint_install_closed_to_others(void **state)
{
    char dir[] = "/tmp/ci-lint-closed-XXXXXX", cmd[PATH_MAX + 128];
    struct lfx *f;

    (void)state;
    f = lfx_sandboxed();
    if (!eslint_installed(f) || geteuid() != 0) {
        lfx_free(f);
        skip();
    }
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s/eslint' && chmod -R o-rwx '%s/eslint'",
             f->cfg.eslint_dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/eslint", dir);
    lfx_repool(f, 1, cmd, NULL);
    assert_non_null(lint_pool_unsandboxed(f->pool));
    assert_non_null(strstr(lint_pool_unsandboxed(f->pool),
                           "ESLint cannot run from its install in the sandbox"));
    lint1(f, "a.js", "var unusedThing = 1;\n");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_string_equal(status_of(f, "eslint"), "ok");
    assert_true(has_rule(f, "no-unused-vars"));
    lfx_free(f);
}

/* A stand-in for bwrap that passes the probes (their commands end in "true"
 * or "--version") and otherwise fails as bwrap does when a mount fails in
 * the sandbox's first process: "child-pid" written, then exit 1. A linter's
 * own exit 1 means "findings" (flake8's too), so only the missing
 * "exit-code" tells them apart. */
static const char fake_bwrap[] =
    "#!/bin/sh\n"
    "fd=; last=\n"
    "while [ $# -gt 0 ]; do\n"
    "  [ \"$1\" = --json-status-fd ] && fd=$2\n"
    "  last=$1; shift\n"
    "done\n"
    "if [ \"$last\" = true ] || [ \"$last\" = --version ]; then\n"
    "  printf '{ \"child-pid\": 2 }\\n{ \"exit-code\": 0 }\\n' >&\"$fd\"; exit 0\n"
    "fi\n"
    "printf '{ \"child-pid\": 2 }\\n' >&\"$fd\"\n"
    "sleep 0.2\n"
    "echo \"bwrap: Can't mount tmpfs on /newroot/work: Permission denied\" >&2\n"
    "exit 1\n";

/* Writes text to dir/name, mode, in the fresh directory dir (a mkdtemp
 * template, made 0755: others may look in); path gets dir/name. */
static void shared_file(char *dir, const char *name, const char *text, mode_t mode, char *path,
                        size_t cap)
{
    FILE *fp;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    snprintf(path, cap, "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_set_up_failure_is_no_clean_run(void **state)
{
    char dir[] = "/tmp/ci-fake-bwrap-XXXXXX", path[64];
    struct lfx *f;

    (void)state;
    if (sbx_no_sandbox())
        skip();
    shared_file(dir, "bwrap", fake_bwrap, 0755, path, sizeof path);
    f = lfx_new(1, path);
    assert_null(lint_pool_unsandboxed(f->pool));        /* the probe passed */
    lint1(f, "a.py", "import os\n");
    unlink(path);
    rmdir(dir);
    assert_string_equal(status_of(f, "flake8"), "failed");
    /* No linter ran, so no exit code; the time spent trying is kept. */
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(linter(f, "flake8"), "exit_code")));
    assert_true(cJSON_GetObjectItemCaseSensitive(linter(f, "flake8"), "duration_ms")->valuedouble
                >= 150);
    assert_int_equal(cJSON_GetArraySize(f->res.findings), 0);
    assert_true(notes_hold(f, "flake8 did not run: sandbox set-up failed (exit 1): "
                              "bwrap: Can't mount tmpfs"));
    lfx_free(f);
}

/* A header the worker can read: world-readable, in a world-searchable
 * directory outside the run's own. cppcheck follows an absolute #include,
 * so unsandboxed, the finding below depends on a file of the worker's
 * machine; in the sandbox that file is not there. */
static void test_worker_files_out_of_sight(void **state)
{
    char dir[] = "/var/tmp/ci-lint-XXXXXX", hdr[64], code[256];
    struct lfx *f;

    (void)state;
    if (sbx_no_sandbox())
        skip();
    shared_file(dir, "idx.h", "#define IDX 10\n", 0644, hdr, sizeof hdr);
    snprintf(code, sizeof code,
             "#include \"%s\"\nint f(void)\n{\n    int a[2] = {0, 0};\n    return a[IDX];\n}\n",
             hdr);

    f = lfx_new(0, NULL);           /* the control: without a sandbox it is read */
    assert_non_null(lint_pool_unsandboxed(f->pool));
    lint1(f, "m.c", code);
    assert_string_equal(status_of(f, "cppcheck"), "ok");
    assert_true(has_rule(f, "arrayIndexOutOfBounds"));
    lfx_free(f);

    f = lfx_new(1, NULL);
    lint1(f, "m.c", code);
    assert_string_equal(status_of(f, "cppcheck"), "ok");
    assert_false(has_rule(f, "arrayIndexOutOfBounds"));
    assert_true(has_rule(f, "constVariable"));      /* it did lint the file */
    lfx_free(f);
    unlink(hdr);
    rmdir(dir);
}

/* A Debug Doctor run that keeps 59 processes alive, within its limits
 * (SANDBOX_NPROC), starves no linter: linters run as a user of their own, with a
 * process budget of their own. (They once shared "nobody" and its 64
 * processes: "bwrap: Creating new namespace failed: Resource temporarily
 * unavailable".) */
static void test_busy_debug_run_starves_no_linter(void **state)
{
    /* Sleepers named like the script: sbx_sandbox_procs counts them. */
    static const char holder[] =
        "i=0\nwhile [ $i -lt 59 ]; do ( exec -a \"$0\" sleep 600 ) & i=$((i + 1)); done\n"
        "wait\n";
    struct config cfg;
    struct fx *bomb;
    struct lfx *f;
    const char *name;

    (void)state;
    if (sbx_no_sandbox() || geteuid() != 0)
        skip();         /* not root: every sandbox keeps the worker's own uid */
    sbx_cfg_defaults(&cfg);
    bomb = sbx_fx_new(&cfg, "/proc/self/exe", NULL);
    name = sbx_marked("hold.sh");
    sbx_start(bomb, 0, "bash", name, &(struct sandbox_file){name, holder, sizeof holder - 1},
              1, NULL);
    for (int i = 0; i < 300 && sbx_sandbox_procs() < 59; i++)    /* bounded */
        sbx_spin(bomb, 50);
    assert_false(bomb->out[0].done);
    assert_true(sbx_sandbox_procs() >= 59);

    f = lfx_new(1, NULL);
    lint1(f, "a.py", "import os\n");
    if (strcmp(status_of(f, "flake8"), "ok") != 0)
        print_error("notes: %s\n", cJSON_PrintUnformatted(f->res.notes));
    assert_string_equal(status_of(f, "flake8"), "ok");
    assert_true(has_rule(f, "F401"));
    lfx_free(f);

    sbx_fx_free(bomb);          /* kills the holder's sandbox */
    sbx_expect_no_sandbox_procs();
}

struct many {
    struct lfx *f;
    int left, ok;
};

static void on_one_of_many(void *arg, struct lint_result *res)
{
    struct many *m = arg;
    const cJSON *l = cJSON_GetArrayItem(res->linters, 0);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(l, "status");

    m->ok += cJSON_IsString(st) && strcmp(st->valuestring, "ok") == 0 &&
             cJSON_GetArraySize(res->findings) == 1;
    lint_result_cleanup(res);
    if (--m->left == 0)
        loop_stop(m->f->loop);
}

/* Eight ESLint runs at once (about 11 node threads each): all fit the
 * linters' process budget. (Within "nobody"'s 64, half failed or hung.) */
static void test_eight_eslint_runs_at_once(void **state)
{
    struct many m = {0};
    struct err e;

    (void)state;
    m.f = lfx_sandboxed();
    if (!eslint_installed(m.f)) {
        lfx_free(m.f);
        skip();
    }
    m.f->cfg.lint_parallel = 8;
    lfx_repool(m.f, 1, NULL, NULL);
    for (int i = 0; i < 8; i++) {
        static const char js[] = "var unusedThing = 1;\n";
        char name[32];
        snprintf(name, sizeof name, "j%d.js", i);
        assert_non_null(lint_start(m.f->pool, name, js, sizeof js - 1, NULL, on_one_of_many, &m,
                                   &e));
        m.left++;
    }
    loop_timer_start(m.f->guard, T_LINT_GUARD_MS, 0);
    while (m.left > 0 && !m.f->guard_fired)
        loop_run(m.f->loop);
    loop_timer_stop(m.f->guard);
    assert_int_equal(m.left, 0);
    assert_int_equal(m.ok, 8);
    lfx_free(m.f);
}

/* A linter that runs out of memory under the sandbox's address-space limit
 * (flake8 on an 840 KB list literal, in 256 MB) exits 1 with a MemoryError
 * and no output: failed, not "ok, no findings" (exit 1 is flake8's "found
 * something"). */
static void test_out_of_memory_is_no_clean_run(void **state)
{
    enum { ITEMS = 280000 };
    struct lfx *f;
    char *code = malloc(ITEMS * 3 + 16);
    size_t n = 0;

    (void)state;
    assert_non_null(code);
    f = lfx_sandboxed();
    f->cfg.lint_memory_mb = 256;
    lfx_repool(f, 1, NULL, NULL);
    n += (size_t)snprintf(code, 8, "x = [");
    for (int i = 0; i < ITEMS; i++, n += 3)
        memcpy(code + n, "1, ", 3);
    memcpy(code + n, "]\n", 3);
    lint1(f, "big.py", code);
    free(code);
    if (strcmp(status_of(f, "flake8"), "failed") != 0)
        print_error("notes: %s\n", cJSON_PrintUnformatted(f->res.notes));
    assert_string_equal(status_of(f, "flake8"), "failed");
    assert_true(notes_hold(f, "flake8 failed (exit 1): MemoryError"));
    lfx_free(f);
}

static void test_failed_probe_runs_unsandboxed(void **state)
{
    struct lfx *f = lfx_new(1, "/nonexistent/bwrap");

    (void)state;
    assert_non_null(lint_pool_unsandboxed(f->pool));
    assert_non_null(strstr(lint_pool_unsandboxed(f->pool), "/nonexistent/bwrap"));
    lint1(f, "a.py", "import os\n");
    assert_string_equal(status_of(f, "flake8"), "ok");
    assert_true(has_rule(f, "F401"));
    lfx_free(f);
}

static void test_failed_probe_required_runs_nothing(void **state)
{
    struct lfx *f = lfx_new(2, "/nonexistent/bwrap");

    (void)state;
    lint1(f, "a.py", "import os\n");
    assert_false(f->res.failed);
    assert_string_equal(status_of(f, "flake8"), "failed");
    assert_string_equal(status_of(f, "pylint"), "failed");
    assert_int_equal(cJSON_GetArraySize(f->res.findings), 0);
    assert_true(notes_hold(f, "CODEINSIGHT_LINT_SANDBOX=2"));
    assert_true(notes_hold(f, "/nonexistent/bwrap"));
    assert_string_equal(lint_pool_unsandboxed_linters(f->pool), "all");
    lfx_free(f);
}

/* A file over the sandbox's file-size limit (CODEINSIGHT_BODY_MAX raised)
 * is not linted in a sandbox, and the note says why. */
static void test_file_over_the_sandbox_limit(void **state)
{
    size_t len = ((size_t)SANDBOX_FSIZE_MB << 20) + 2;
    char *code = malloc(len + 1);
    struct lfx *f;

    (void)state;
    assert_non_null(code);
    f = lfx_sandboxed();
    memset(code, '\n', len);
    code[0] = '#';
    code[len] = '\0';
    lint1(f, "huge.py", code);
    free(code);
    assert_string_equal(status_of(f, "flake8"), "failed");
    assert_true(notes_hold(f, "flake8 did not run: the file is larger than the sandbox's"));
    lfx_free(f);
}

/* A linter not installed is "missing" in a sandbox too (bwrap's failed exec
 * inside would read as a set-up failure). */
static void test_missing_linter_in_the_sandbox(void **state)
{
    struct lfx *f;

    (void)state;
    f = lfx_sandboxed();
    lfx_repool(f, 1, "/nonexistent/eslint", NULL);
    assert_null(lint_pool_unsandboxed(f->pool));
    lint1(f, "a.js", "var unusedThing = 1;\n");
    assert_string_equal(status_of(f, "eslint"), "missing");
    assert_true(notes_hold(f, "eslint did not run: it is not installed"));
    lfx_free(f);
}

static void test_off_never_probes(void **state)
{
    struct lfx *f = lfx_new(0, "/nonexistent/bwrap");

    (void)state;
    assert_string_equal(lint_pool_unsandboxed(f->pool), "turned off by CODEINSIGHT_LINT_SANDBOX=0");
    lfx_free(f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_findings_in_the_sandbox),
        cmocka_unit_test(test_eslint_from_its_mount),
        cmocka_unit_test(test_eslint_in_a_private_directory),
        cmocka_unit_test(test_eslint_install_closed_to_others),
        cmocka_unit_test(test_worker_files_out_of_sight),
        cmocka_unit_test(test_set_up_failure_is_no_clean_run),
        cmocka_unit_test(test_busy_debug_run_starves_no_linter),
        cmocka_unit_test(test_eight_eslint_runs_at_once),
        cmocka_unit_test(test_out_of_memory_is_no_clean_run),
        cmocka_unit_test(test_failed_probe_runs_unsandboxed),
        cmocka_unit_test(test_failed_probe_required_runs_nothing),
        cmocka_unit_test(test_missing_linter_in_the_sandbox),
        cmocka_unit_test(test_file_over_the_sandbox_limit),
        cmocka_unit_test(test_off_never_probes),
    };

    sbx_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
