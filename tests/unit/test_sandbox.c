/* test_sandbox.c - the Debug Doctor sandbox (worker/sandbox.c and the
 * launcher, worker/sandbox_exec.c) against the real bubblewrap: runners,
 * containment (network, file system, processes, memory, CPU, environment),
 * the wall clock, the output tail, the parallel cap, and the paths where no
 * sandbox can be made. Every run is bounded by a guard timer.
 *
 * Like the worker, this binary is its own launcher: main() hands
 * "--sandbox-exec" argv to sandbox_exec_main, and the sandbox runs
 * /proc/self/exe. Needs bwrap with user namespaces; skips otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/loop.h"
#include "common/utf8.h"
#include "worker/sandbox.h"
#include "worker/sandbox_exec.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The wall clock of a run: never what ends one on a slow or busy machine,
 * but for the runs that are meant to meet it, which get T_SHORT_MS. */
#define T_TIMEOUT_MS 30000
#define T_SHORT_MS 1500
#define T_CPU_S 2
#define T_MEMORY_MB 512
#define T_OUTPUT_MAX 65536
#define T_GUARD_MS 90000        /* no test waits longer for its runs */
#define T_RUNS_MAX 4
/* For killed sandbox processes to disappear: well under a second, but the
 * machine may be busy. (Processes that outlived this once, gone "minutes
 * later", were sandboxes orphaned by a cancel during bwrap's set-up, whose
 * 60 s sleep had ended: test_cancel_at_any_moment.) */
#define T_REAP_MS 15000
#define T_CANCEL_ROUNDS 40
#define T_CANCEL_SPREAD_MS 400

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
    int pending;
    int finished;
    int guard_fired;
    struct outcome out[T_RUNS_MAX];
};

static const char *skip_reason;     /* set when bwrap cannot work here */
static char marker[32];             /* "cisbx<pid>", see sandbox_procs() */

static void on_done(void *arg, cJSON *run, const char *why)
{
    struct outcome *o = arg;

    o->run = run;
    snprintf(o->why, sizeof o->why, "%s", why ? why : "");
    o->done = 1;
    o->order = ++o->fx->finished;
    if (--o->fx->pending == 0)
        loop_stop(o->fx->loop);
}

static void on_guard(void *arg)
{
    struct fx *f = arg;

    f->guard_fired = 1;
    loop_stop(f->loop);
}

static void cfg_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sandbox_enabled = 1;
    cfg->sandbox_parallel = 2;
    cfg->sandbox_timeout_ms = T_TIMEOUT_MS;
    cfg->sandbox_cpu_s = T_CPU_S;
    cfg->sandbox_memory_mb = T_MEMORY_MB;
    cfg->sandbox_output_max = T_OUTPUT_MAX;
}

static struct fx *fx_new(const struct config *cfg, const char *self_exe, const char *bwrap)
{
    struct fx *f = calloc(1, sizeof *f);
    struct err e;

    assert_non_null(f);
    f->cfg = *cfg;
    f->loop = loop_new(&e);
    assert_non_null(f->loop);
    f->guard = loop_timer_new(f->loop, on_guard, f);
    assert_non_null(f->guard);
    f->sb = sandbox_new(f->loop, &f->cfg, self_exe, bwrap, &e);
    assert_non_null(f->sb);
    for (int i = 0; i < T_RUNS_MAX; i++)
        f->out[i].fx = f;
    return f;
}

static void fx_free(struct fx *f)
{
    sandbox_free(f->sb);
    loop_timer_free(f->guard);
    for (int i = 0; i < T_RUNS_MAX; i++)
        cJSON_Delete(f->out[i].run);
    loop_free(f->loop);
    free(f);
}

static int setup(void **state)
{
    struct config cfg;

    if (skip_reason != NULL)
        return 0;
    cfg_defaults(&cfg);
    *state = fx_new(&cfg, "/proc/self/exe", NULL);
    return 0;
}

/* Runs end at the wall clock: T_SHORT_MS. */
static int setup_short(void **state)
{
    struct config cfg;

    if (skip_reason != NULL)
        return 0;
    cfg_defaults(&cfg);
    cfg.sandbox_timeout_ms = T_SHORT_MS;
    *state = fx_new(&cfg, "/proc/self/exe", NULL);
    return 0;
}

static int teardown(void **state)
{
    if (*state != NULL)
        fx_free(*state);
    *state = NULL;
    return 0;
}

/* 1, with the reason printed, when the sandbox cannot work here. */
static int no_sandbox(void)
{
    if (skip_reason != NULL)
        print_message("skipped: %s\n", skip_reason);
    return skip_reason != NULL;
}

/* Runs the loop until every started run has reported, at most T_GUARD_MS. */
static void wait_all(struct fx *f)
{
    f->guard_fired = 0;
    loop_timer_start(f->guard, T_GUARD_MS, 0);
    while (f->pending > 0 && !f->guard_fired)
        loop_run(f->loop);
    loop_timer_stop(f->guard);
    if (f->pending > 0)
        fail_msg("%d sandbox runs did not report within %d ms", f->pending, T_GUARD_MS);
}

/* Runs the loop for ms (callbacks may run meanwhile). */
static void spin(struct fx *f, int ms)
{
    f->guard_fired = 0;
    loop_timer_start(f->guard, (uint64_t)ms, 0);
    while (!f->guard_fired)
        loop_run(f->loop);
}

/* Frees slot's outcome, for another run. */
static void forget(struct fx *f, int slot)
{
    cJSON_Delete(f->out[slot].run);
    memset(&f->out[slot], 0, sizeof f->out[slot]);
    f->out[slot].fx = f;
}

static struct sandbox_task *start(struct fx *f, int slot, const char *runner, const char *entry,
                                  const struct sandbox_file *files, int nfiles,
                                  const char *const *args)
{
    struct sandbox_spec spec = {runner, entry, args, files, nfiles};
    struct sandbox_task *t;
    struct err e;

    t = sandbox_run(f->sb, &spec, on_done, &f->out[slot], &e);
    if (t == NULL)
        fail_msg("sandbox_run: %s", e.msg);
    f->pending++;
    return t;
}

/* One file, one run, waited for. Returns the run (borrowed from f). */
static cJSON *run1(struct fx *f, const char *runner, const char *name, const char *code,
                   const char *const *args)
{
    struct sandbox_file file = {name, code, strlen(code)};

    start(f, 0, runner, strcmp(runner, "cc") == 0 ? NULL : name, &file, 1, args);
    wait_all(f);
    if (f->out[0].run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    return f->out[0].run;
}

static const char *str(const cJSON *run, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, name);

    if (!cJSON_IsString(v))
        fail_msg("run has no string %s", name);
    return v->valuestring;
}

/* A number member; -1 for null. */
static double num(const cJSON *run, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(run, name);

    if (cJSON_IsNull(v))
        return -1;
    if (!cJSON_IsNumber(v))
        fail_msg("run has no number %s", name);
    return v->valuedouble;
}

static int timed_out(const cJSON *run)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "timed_out"));
}

static void expect_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%.3000s", needle, hay);
}

static void expect_not_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%.3000s", needle, hay);
}

/* Live (not zombie) processes of the sandbox user whose command line holds
 * `marker` (this test process's, in the names of the files it runs), so that
 * sandboxes of other test processes do not count. */
static int sandbox_procs(void)
{
    unsigned want = getuid() == 0 ? SANDBOX_EXEC_UID : getuid();
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[300], line[256], cmd[4096];
        unsigned ruid = 0;
        int zombie = 0, fd;
        ssize_t len;
        FILE *fp;

        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/status", de->d_name);
        fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        while (fgets(line, sizeof line, fp) != NULL) {
            char state;
            if (sscanf(line, "State: %c", &state) == 1)
                zombie = state == 'Z' || state == 'X';
            if (sscanf(line, "Uid: %u", &ruid) == 1)
                break;
        }
        fclose(fp);
        if (zombie || ruid != want)
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        len = read(fd, cmd, sizeof cmd - 1);
        close(fd);
        if (len <= 0)
            continue;
        for (ssize_t i = 0; i < len; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[len] = '\0';
        n += strstr(cmd, marker) != NULL;
    }
    closedir(d);
    return n;
}

/* Waits (bounded) until none of this test's sandbox processes is left. */
static void expect_no_sandbox_procs(void)
{
    int64_t until = clock_mono_ms() + T_REAP_MS;
    int n;

    while ((n = sandbox_procs()) > 0 && clock_mono_ms() < until)
        usleep(50 * 1000);
    if (n > 0)
        fail_msg("%d sandbox processes (uid %d) still running %d ms after the run", n,
                 SANDBOX_EXEC_UID, T_REAP_MS);
}

/* "<marker>-<base>": a file name sandbox_procs() recognises. */
static const char *marked(const char *base)
{
    static char names[8][64];
    static int next;
    char *s = names[next++ % 8];

    snprintf(s, sizeof names[0], "%s-%s", marker, base);
    return s;
}

/* ---- runners ---- */

static void test_python_traceback(void **state)
{
    struct fx *f = *state;
    cJSON *run, *argv;

    if (no_sandbox())
        skip();
    run = run1(f, "python", "main.py", "def f(x):\n    return 1 / x\n\nprint('before')\nf(0)\n",
               NULL);
    assert_int_equal(num(run, "exit"), 1);
    assert_int_equal(num(run, "signal"), -1);
    assert_false(timed_out(run));
    assert_string_equal(str(run, "stdout_tail"), "before\n");
    expect_in(str(run, "stderr_tail"), "ZeroDivisionError: division by zero");
    expect_in(str(run, "stderr_tail"), "File \"/work/main.py\", line 2, in f");
    assert_int_equal(num(run, "stdout_bytes"), 7);
    assert_true(num(run, "duration_ms") >= 0 && num(run, "duration_ms") < T_TIMEOUT_MS);
    argv = cJSON_GetObjectItemCaseSensitive(run, "argv");
    assert_int_equal(cJSON_GetArraySize(argv), 4);
    assert_string_equal(cJSON_GetArrayItem(argv, 0)->valuestring, "python3");
    assert_string_equal(cJSON_GetArrayItem(argv, 3)->valuestring, "main.py");
}

static void test_node_type_error(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "node", "app.js", "const o = null;\nconsole.log('start');\nconsole.log(o.x);\n",
               NULL);
    assert_int_equal(num(run, "exit"), 1);
    assert_false(timed_out(run));
    assert_string_equal(str(run, "stdout_tail"), "start\n");
    expect_in(str(run, "stderr_tail"), "TypeError: Cannot read properties of null");
    expect_in(str(run, "stderr_tail"), "/work/app.js:3");
}

static void test_cc_asan_overflow(void **state)
{
    static const char main_c[] =
        "#include <stdio.h>\n#include <stdlib.h>\n"
        "int fill(char *p, int n);\n"
        "int main(int argc, char **argv)\n{\n"
        "    char *p = malloc(8);\n"
        "    printf(\"args %d %s\\n\", argc, argc > 1 ? argv[1] : \"-\");\n"
        "    fflush(stdout);\n"
        "    return fill(p, 9);\n}\n";
    static const char fill_c[] =
        "int fill(char *p, int n)\n{\n    for (int i = 0; i < n; i++)\n        p[i] = 1;\n"
        "    return 0;\n}\n";
    static const char *const args[] = {"$(id) ; x", NULL};
    struct sandbox_file files[] = {
        {"main.c", main_c, sizeof main_c - 1},
        {"lib/fill.c", fill_c, sizeof fill_c - 1},
    };
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    start(f, 0, "cc", NULL, files, 2, args);
    wait_all(f);
    run = f->out[0].run;
    if (run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    assert_true(num(run, "exit") != 0);
    assert_false(timed_out(run));
    assert_string_equal(str(run, "stdout_tail"), "args 2 $(id) ; x\n");
    expect_in(str(run, "stderr_tail"), "AddressSanitizer: heap-buffer-overflow");
    expect_in(str(run, "stderr_tail"), "lib/fill.c:4");
}

static void test_pytest_and_sh_args(void **state)
{
    static const char test_py[] = "def test_ok():\n    assert 1 + 1 == 2\n\n"
                                  "def test_bad():\n    assert 1 + 1 == 3\n";
    static const char *const args[] = {"$(id)", "a b", "; echo pwned", "-c", "*", NULL};
    struct sandbox_file tf = {"tests/test_calc.py", test_py, sizeof test_py - 1};
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    start(f, 0, "pytest", NULL, &tf, 1, NULL);
    wait_all(f);
    run = f->out[0].run;
    if (run == NULL)
        fail_msg("the sandbox failed: %s", f->out[0].why);
    assert_int_equal(num(run, "exit"), 1);
    expect_in(str(run, "stdout_tail"), "1 failed, 1 passed");
    forget(f, 0);

    run = run1(f, "sh", "-x.sh", "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n", args);
    assert_int_equal(num(run, "exit"), 0);
    assert_string_equal(str(run, "stdout_tail"), "[$(id)]\n[a b]\n[; echo pwned]\n[-c]\n[*]\n");
}

/* ---- containment ---- */

static void test_no_network(void **state)
{
    static const char code[] =
        "import socket, sys\n"
        "port = int(sys.argv[1])\n"
        "try:\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    print('INET CREATED')\n"
        "    s.settimeout(1)\n"
        "    try:\n"
        "        s.connect(('127.0.0.1', port)); print('CONNECTED')\n"
        "    except OSError as e:\n"
        "        print('connect failed', e.errno)\n"
        "except OSError as e:\n"
        "    print('inet denied', e.errno)\n"
        "for name, fam, typ in (('inet6', socket.AF_INET6, socket.SOCK_STREAM),\n"
        "                       ('udp', socket.AF_INET, socket.SOCK_DGRAM),\n"
        "                       ('netlink', socket.AF_NETLINK, socket.SOCK_RAW),\n"
        "                       ('packet', socket.AF_PACKET, socket.SOCK_RAW)):\n"
        "    try:\n"
        "        socket.socket(fam, typ); print(name.upper(), 'CREATED')\n"
        "    except OSError as e:\n"
        "        print(name, 'denied', e.errno)\n"
        "u = socket.socket(socket.AF_UNIX); print('unix ok')\n"
        "ifs = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]]\n"
        "print('ifaces=' + ','.join(ifs))\n"
        "tcp = open('/proc/net/tcp').read() + open('/proc/net/tcp6').read()\n"
        "print('PORT VISIBLE' if (':%04X' % port) in tcp else 'port hidden')\n";
    struct fx *f = *state;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    char port[16];
    const char *args[] = {port, NULL};
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const char *out;
    cJSON *run;

    if (no_sandbox())
        skip();
    assert_true(ls >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    snprintf(port, sizeof port, "%u", ntohs(a.sin_port));

    run = run1(f, "python", "net.py", code, args);
    out = str(run, "stdout_tail");
    assert_int_equal(num(run, "exit"), 0);
    expect_in(out, "inet denied 1\n");     /* seccomp: EPERM */
    expect_in(out, "inet6 denied 1\n");
    expect_in(out, "udp denied 1\n");
    expect_in(out, "netlink denied 1\n");
    expect_in(out, "packet denied 1\n");
    expect_in(out, "unix ok\n");
    expect_in(out, "ifaces=lo\n");        /* a network namespace of its own */
    expect_in(out, "port hidden\n");
    expect_not_in(out, "CREATED");
    expect_not_in(out, "CONNECTED");
    /* Nothing knocked on the test's own port. */
    assert_int_equal(accept(ls, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(ls);
}

static void test_fork_bomb(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "bash", marked("bomb.sh"), "bomb() { bomb | bomb & }\nbomb\nwait\n", NULL);
    /* It ended, one way or the other (burnt out against RLIMIT_NPROC, or at
     * the wall clock), and took every process with it. */
    assert_true(num(run, "duration_ms") < T_TIMEOUT_MS);
    expect_no_sandbox_procs();
}

static void test_memory_bomb(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "python", "mem.py",
               "chunks = []\n"
               "for i in range(40):\n"
               "    chunks.append(bytearray(50 * 1024 * 1024))\n"
               "print('ALLOCATED 2 GB')\n",
               NULL);
    assert_true(num(run, "exit") != 0);
    assert_false(timed_out(run));
    expect_in(str(run, "stderr_tail"), "MemoryError");
    expect_not_in(str(run, "stdout_tail"), "ALLOCATED");
}

/* node: RLIMIT_AS is memory + SANDBOX_NODE_AS_EXTRA_MB, the V8 heap capped
 * at memory; cc: no RLIMIT_AS, AddressSanitizer's RSS limit instead. */
static void test_memory_bomb_node_cc(void **state)
{
    static const char js[] = "const a = [];\n"
                             "for (let i = 0; i < 40; i++)\n"
                             "    a.push(Buffer.alloc(50 * 1024 * 1024, 1));\n"
                             "console.log('ALLOCATED 2 GB');\n";
    static const char c[] = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                            "int main(void)\n{\n"
                            "    for (int i = 0; i < 40; i++) {\n"
                            "        char *p = malloc(50 << 20);\n"
                            "        if (p == NULL) {\n"
                            "            printf(\"malloc failed at %d MB\\n\", i * 50);\n"
                            "            return 3;\n"
                            "        }\n"
                            "        memset(p, 1, 50 << 20);\n"
                            "    }\n"
                            "    printf(\"ALLOCATED 2 GB\\n\");\n"
                            "    return 0;\n}\n";
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "node", "mem.js", js, NULL);
    assert_true(num(run, "exit") != 0);
    expect_in(str(run, "stderr_tail"), "RangeError");
    expect_not_in(str(run, "stdout_tail"), "ALLOCATED");
    forget(f, 0);

    run = run1(f, "cc", "mem.c", c, NULL);
    assert_true(num(run, "exit") != 0);
    assert_false(timed_out(run));
    expect_not_in(str(run, "stdout_tail"), "ALLOCATED");
    if (strstr(str(run, "stderr_tail"), "AddressSanitizer: hard rss limit exhausted") == NULL)
        expect_in(str(run, "stdout_tail"), "malloc failed");
}

static void test_infinite_loop(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "python", "spin.py", "while True:\n    pass\n", NULL);
    assert_true(num(run, "exit") == -1);
    /* RLIMIT_CPU: SIGXCPU at T_CPU_S, SIGKILL a second later; not the wall
     * clock. */
    assert_true(num(run, "signal") == SIGXCPU || num(run, "signal") == SIGKILL);
    assert_false(timed_out(run));
}

static void test_file_system(void **state)
{
    static const char code[] =
        "import os, sys\n"
        "host, name = sys.argv[1], sys.argv[2]\n"
        "for d in ('/usr', '/etc', '', host, '/proc', '/dev', '/usr/lib', '/bin'):\n"
        "    p = d + '/' + name\n"
        "    try:\n"
        "        with open(p, 'w') as fp:\n"
        "            fp.write('x')\n"
        "        print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('denied', p, e.errno)\n"
        "for p in ('/work/out.txt', '/tmp/out.txt', '/dev/shm/out.txt'):\n"
        "    open(p, 'w').write('ok'); print('wrote', p)\n"
        "print('etc=' + ','.join(sorted(os.listdir('/etc'))))\n"
        "print('work=' + ','.join(sorted(os.listdir('/work'))))\n";
    struct fx *f = *state;
    char host[] = "/tmp/test-sandbox-XXXXXX", name[64], path[256];
    const char *args[] = {host, name, NULL};
    const char *out;
    cJSON *run;

    if (no_sandbox())
        skip();
    assert_non_null(mkdtemp(host));
    snprintf(name, sizeof name, "codeinsight-canary-%d", (int)getpid());
    run = run1(f, "python", "fs.py", code, args);
    out = str(run, "stdout_tail");
    assert_int_equal(num(run, "exit"), 0);
    expect_not_in(out, "WROTE");
    expect_in(out, "wrote /work/out.txt\n");
    expect_in(out, "wrote /tmp/out.txt\n");
    expect_in(out, "wrote /dev/shm/out.txt\n");
    expect_in(out, "etc=alternatives,ld.so.cache,localtime\n");
    expect_in(out, "work=fs.py,out.txt\n");
    /* Nothing reached the host. */
    for (const char *const *d = (const char *const[]){"/usr", "/etc", "", host, "/usr/lib", NULL};
         *d != NULL; d++) {
        snprintf(path, sizeof path, "%s/%s", *d, name);
        if (access(path, F_OK) == 0)
            fail_msg("%s appeared on the host", path);
    }
    assert_int_equal(rmdir(host), 0);
}

static void test_no_shadow(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "python", "shadow.py",
               "for p in ('/etc/shadow', '/etc/passwd', '/etc/gshadow', '/root/.bashrc'):\n"
               "    try:\n"
               "        print('READ', p, len(open(p).read()))\n"
               "    except OSError as e:\n"
               "        print('denied', p, e.errno)\n",
               NULL);
    assert_int_equal(num(run, "exit"), 0);
    expect_in(str(run, "stdout_tail"), "denied /etc/shadow 2\n");
    expect_not_in(str(run, "stdout_tail"), "READ");
}

static void test_environment_hidden(void **state)
{
    static const char code[] =
        "import glob, os\n"
        "print('keys=' + ','.join(sorted(os.environ)))\n"
        "seen, hits = [], []\n"
        "for p in sorted(glob.glob('/proc/*/environ')):\n"
        "    try:\n"
        "        data = open(p, 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    seen.append(p)\n"
        "    if b'CANARY' in data or b'CODEINSIGHT' in data:\n"
        "        hits.append(p)\n"
        "print('seen=' + ','.join(seen))\n"
        "print('hits=' + ','.join(hits))\n";
    struct fx *f = *state;
    const char *out;
    cJSON *run;

    if (no_sandbox())
        skip();
    assert_non_null(getenv("CODEINSIGHT_CANARY_SECRET"));
    run = run1(f, "python", "env.py", code, NULL);
    out = str(run, "stdout_tail");
    assert_int_equal(num(run, "exit"), 0);
    expect_in(out, "keys=HOME,LANG,PATH,PWD,TMPDIR\n");   /* PWD: bwrap --chdir */
    expect_in(out, "/proc/1/environ");    /* bwrap's own environment was read */
    expect_in(out, "hits=\n");
    expect_not_in(out, getenv("CODEINSIGHT_CANARY_SECRET"));
    expect_not_in(str(run, "stderr_tail"), getenv("CODEINSIGHT_CANARY_SECRET"));
}

/* ---- wall clock and output ---- */

static void test_timeout(void **state)
{
    struct fx *f = *state;
    cJSON *run;

    if (no_sandbox())
        skip();
    run = run1(f, "python", marked("sleep.py"),
               "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n", NULL);
    assert_true(timed_out(run));
    assert_int_equal(num(run, "exit"), -1);
    assert_int_equal(num(run, "signal"), SIGKILL);
    assert_string_equal(str(run, "stdout_tail"), "sleeping\n");
    /* The loop's clock is read once per turn: the kill may come a few ms
     * before T_SHORT_MS after the spawn; and long before the sleep's end. */
    assert_true(num(run, "duration_ms") > T_SHORT_MS - 500);
    assert_true(num(run, "duration_ms") < 60000 - T_SHORT_MS);
    expect_no_sandbox_procs();
}

static void test_output_tail(void **state)
{
    struct fx *f = *state;
    const char *out;
    size_t len;
    cJSON *run;

    if (no_sandbox())
        skip();
    /* 1 + 10,260 lines of 1,023 bytes (two-byte characters) + the end mark:
     * over 10 MiB, and the cut falls inside a character, which the tail must
     * not start with. */
    run = run1(f, "python", "loud.py",
               "import sys\n"
               "w = sys.stdout.buffer.write\n"
               "w(b'a')\n"
               "line = ('\\u00e9' * 511 + '\\n').encode()\n"
               "for i in range(10260):\n"
               "    w(line)\n"
               "w(b'THE-END\\n')\n"
               "sys.stderr.write('e' * 100000)\n",
               NULL);
    out = str(run, "stdout_tail");
    len = strlen(out);
    assert_int_equal(num(run, "exit"), 0);
    assert_true(num(run, "stdout_bytes") >= 10.0 * 1024 * 1024);
    assert_int_equal(num(run, "stdout_bytes"), 1 + 10260 * 1023 + 8);
    assert_int_equal(num(run, "stderr_bytes"), 100000);
    assert_true(len <= T_OUTPUT_MAX && len >= T_OUTPUT_MAX - 3);
    assert_true(len > 8 && strcmp(out + len - 8, "THE-END\n") == 0);
    assert_true(((unsigned char)out[0] & 0xc0) != 0x80);
    assert_true(utf8_valid(out, len, NULL));
    assert_int_equal(strlen(str(run, "stderr_tail")), T_OUTPUT_MAX);
}

/* ---- scheduling ---- */

static void test_parallel_cap(void **state)
{
    static const char code[] = "import time\nprint('%.3f' % time.time(), flush=True)\n"
                               "time.sleep(1)\nprint('%.3f' % time.time())\n";
    struct sandbox_file file = {"p.py", code, sizeof code - 1};
    struct config cfg;
    struct fx *f;
    double prev_end = 0;

    (void)state;
    if (no_sandbox())
        skip();
    cfg_defaults(&cfg);
    cfg.sandbox_parallel = 1;
    f = fx_new(&cfg, "/proc/self/exe", NULL);
    for (int i = 0; i < 3; i++)
        start(f, i, "python", "p.py", &file, 1, NULL);
    wait_all(f);
    for (int i = 0; i < 3; i++) {
        double b, e;
        if (f->out[i].run == NULL)
            fail_msg("run %d: the sandbox failed: %s", i, f->out[i].why);
        assert_int_equal(f->out[i].order, i + 1);      /* FIFO */
        assert_int_equal(sscanf(str(f->out[i].run, "stdout_tail"), "%lf %lf", &b, &e), 2);
        if (b < prev_end)
            fail_msg("run %d started at %.3f before run %d ended at %.3f", i, b, i - 1, prev_end);
        prev_end = e;
    }
    fx_free(f);
}

static void test_cancel_and_free(void **state)
{
    static const char code[] = "import time\ntime.sleep(60)\n";
    struct sandbox_file file = {marked("s.py"), code, sizeof code - 1};
    struct fx *f = *state;
    struct sandbox_task *t;

    if (no_sandbox())
        skip();
    t = start(f, 0, "python", file.path, &file, 1, NULL);
    start(f, 1, "python", file.path, &file, 1, NULL);
    start(f, 2, "python", file.path, &file, 1, NULL);   /* waits: parallel is 2 */
    /* Until both run (a busy machine may take a while to start them). */
    for (int64_t until = clock_mono_ms() + T_TIMEOUT_MS;
         sandbox_procs() < 2 && clock_mono_ms() < until;)
        spin(f, 50);
    assert_true(sandbox_procs() >= 2);    /* they were running */
    sandbox_cancel(t);
    spin(f, 300);
    assert_false(f->out[0].done);
    sandbox_free(f->sb);            /* kills the second, drops the third */
    f->sb = NULL;
    spin(f, 300);
    assert_false(f->out[1].done);
    assert_false(f->out[2].done);
    expect_no_sandbox_procs();
}

/* A cancel must take the whole sandbox down whenever it lands: while the
 * launcher starts, while bwrap builds the namespaces, or once the program
 * runs. Bounded: T_CANCEL_ROUNDS rounds of at most T_CANCEL_SPREAD_MS. */
static void test_cancel_at_any_moment(void **state)
{
    static const char code[] = "import time\ntime.sleep(60)\n";
    struct sandbox_file file = {marked("c.py"), code, sizeof code - 1};
    struct fx *f = *state;

    if (no_sandbox())
        skip();
    for (int i = 0; i < T_CANCEL_ROUNDS; i++) {
        struct sandbox_task *t = start(f, 0, "python", file.path, &file, 1, NULL);
        int ms = (i * T_CANCEL_SPREAD_MS) / T_CANCEL_ROUNDS;

        if (ms > 0)
            spin(f, ms);
        assert_false(f->out[0].done);
        sandbox_cancel(t);
        f->pending--;
    }
    spin(f, 100);
    assert_false(f->out[0].done);
    expect_no_sandbox_procs();
}

/* A worker killed with SIGKILL takes its sandboxes with it: the launcher's
 * keeper gets the parent-death signal and kills the sandbox's group. */
static void test_worker_killed(void **state)
{
    static const char code[] = "import time\ntime.sleep(60)\n";
    struct sandbox_file file = {marked("k.py"), code, sizeof code - 1};
    int status;
    pid_t pid;

    (void)state;
    if (no_sandbox())
        skip();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct config cfg;
        struct fx *f;

        cfg_defaults(&cfg);
        f = fx_new(&cfg, "/proc/self/exe", NULL);
        start(f, 0, "python", file.path, &file, 1, NULL);
        start(f, 1, "python", file.path, &file, 1, NULL);
        /* Until both programs run: keeper, bwrap, init and python each. */
        for (int64_t until = clock_mono_ms() + T_TIMEOUT_MS;
             sandbox_procs() < 8 && clock_mono_ms() < until;)
            spin(f, 50);
        raise(SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    expect_no_sandbox_procs();
}

/* ---- no sandbox, no run ---- */

static void expect_refused(const struct config *cfg, const char *self_exe, const char *bwrap,
                           const char *reason)
{
    static const char code[] = "import time\ntime.sleep(3)\nprint('RAN')\n";
    struct sandbox_file file = {marked("x.py"), code, sizeof code - 1};
    struct fx *f = fx_new(cfg, self_exe, bwrap);
    int64_t t0 = clock_mono_ms();

    if (sandbox_unavailable(f->sb) == NULL)
        fail_msg("the sandbox should be unavailable (%s)", reason);
    expect_in(sandbox_unavailable(f->sb), reason);
    start(f, 0, "python", file.path, &file, 1, NULL);
    assert_false(f->out[0].done);       /* never inside sandbox_run */
    wait_all(f);
    assert_null(f->out[0].run);
    expect_in(f->out[0].why, reason);
    assert_true(clock_mono_ms() - t0 < 3000);   /* the program sleeps 3 s */
    fx_free(f);
    assert_int_equal(sandbox_procs(), 0);
}

static void test_unavailable(void **state)
{
    struct config cfg;

    (void)state;
    cfg_defaults(&cfg);
    cfg.sandbox_enabled = 0;
    expect_refused(&cfg, "/proc/self/exe", NULL, "sandbox disabled by CODEINSIGHT_SANDBOX=0");
    if (no_sandbox())
        skip();
    cfg.sandbox_enabled = 1;
    expect_refused(&cfg, "/proc/self/exe", "/nonexistent/bwrap",
                   "bubblewrap not found at /nonexistent/bwrap");
    /* A "bwrap" that fails the way a broken one does: no child, exit 1. */
    expect_refused(&cfg, "/proc/self/exe", "/bin/false", "sandbox probe failed (exit 1)");
    expect_refused(&cfg, "/nonexistent/launcher", NULL, "cannot start the launcher");
}

static void test_invalid_specs(void **state)
{
    static const char *const many[SANDBOX_ARGS_MAX + 2] = {
        "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a",
        "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a", NULL};
    struct sandbox_file ok = {"a.py", "print(1)\n", 9};
    struct sandbox_file bad = {"../a.py", "print(1)\n", 9};
    struct sandbox_file dup[] = {{"a.py", "", 0}, {"./a.py", "", 0}};
    struct sandbox_file clash[] = {{"a", "", 0}, {"a/b.py", "", 0}};
    struct {
        struct sandbox_spec spec;
        enum err_code code;
    } cases[] = {
        {{"ruby", "a.py", NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{NULL, "a.py", NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", "b.py", NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", NULL, NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", "../a.py", NULL, &bad, 1}, ERR_INVALID_FILE_PATH},
        {{"python", "a.py", NULL, dup, 2}, ERR_INVALID_FILE_PATH},
        {{"python", "a/b.py", NULL, clash, 2}, ERR_INVALID_FILE_PATH},
        {{"cc", NULL, NULL, &ok, 1}, ERR_INVALID_FIELD_VALUE},
        {{"python", "a.py", many, &ok, 1}, ERR_INVALID_FIELD_VALUE},
    };
    struct config cfg;
    struct fx *f;

    (void)state;
    cfg_defaults(&cfg);
    cfg.sandbox_enabled = 0;    /* checked before anything else */
    f = fx_new(&cfg, "/proc/self/exe", NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct err e;
        err_clear(&e);
        if (sandbox_run(f->sb, &cases[i].spec, on_done, &f->out[0], &e) != NULL)
            fail_msg("case %zu was accepted", i);
        if (e.code != cases[i].code)
            fail_msg("case %zu: %s (%s)", i, err_code_str(e.code), e.msg);
    }
    spin(f, 50);
    assert_false(f->out[0].done);
    fx_free(f);
}

/* bwrap with user namespaces must work here; else the sandbox tests skip. */
static void check_bwrap(void)
{
    struct config cfg;
    struct loop *loop;
    struct sandbox *sb;
    struct err e;
    static char why[300];

    cfg_defaults(&cfg);
    loop = loop_new(&e);
    sb = loop ? sandbox_new(loop, &cfg, "/proc/self/exe", NULL, &e) : NULL;
    if (sb == NULL) {
        snprintf(why, sizeof why, "cannot create the sandbox: %s", e.msg);
        skip_reason = why;
    } else if (sandbox_unavailable(sb) != NULL) {
        snprintf(why, sizeof why, "%s", sandbox_unavailable(sb));
        skip_reason = why;
    }
    sandbox_free(sb);
    loop_free(loop);
    if (skip_reason != NULL)
        printf("test_sandbox: sandbox tests skip: %s\n", skip_reason);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--sandbox-exec") == 0)
        return sandbox_exec_main(argc, argv);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_python_traceback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_type_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cc_asan_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pytest_and_sh_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_network, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_bomb, setup_short, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bomb_node_cc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infinite_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_system, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_shadow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup_short, teardown),
        cmocka_unit_test_setup_teardown(test_output_tail, setup, teardown),
        cmocka_unit_test(test_parallel_cap),
        cmocka_unit_test_setup_teardown(test_cancel_and_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_at_any_moment, setup, teardown),
        cmocka_unit_test(test_worker_killed),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_invalid_specs),
    };

    snprintf(marker, sizeof marker, "cisbx%d", (int)getpid());
    /* A secret of the worker's environment the sandbox must never see. */
    setenv("CODEINSIGHT_CANARY_SECRET", "canary-7f3d1c9e2b", 1);
    check_bwrap();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
