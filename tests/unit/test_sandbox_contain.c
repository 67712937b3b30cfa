/* test_sandbox_contain.c - what a sandboxed run cannot reach, against the
 * real bubblewrap: the network (no sockets but AF_UNIX, no interface but lo,
 * nothing of the host's), the file system (read-only, no /etc/shadow, only
 * the submitted files in /work) and the worker's environment. Helpers:
 * sandbox_fx.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/sandbox_fx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

    if (sbx_no_sandbox())
        skip();
    assert_true(ls >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 8), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    snprintf(port, sizeof port, "%u", ntohs(a.sin_port));

    run = sbx_run1(f, "python", "net.py", code, args);
    out = sbx_str(run, "stdout_tail");
    assert_int_equal(sbx_num(run, "exit"), 0);
    sbx_expect_in(out, "inet denied 1\n");     /* seccomp: EPERM */
    sbx_expect_in(out, "inet6 denied 1\n");
    sbx_expect_in(out, "udp denied 1\n");
    sbx_expect_in(out, "netlink denied 1\n");
    sbx_expect_in(out, "packet denied 1\n");
    sbx_expect_in(out, "unix ok\n");
    sbx_expect_in(out, "ifaces=lo\n");        /* a network namespace of its own */
    sbx_expect_in(out, "port hidden\n");
    sbx_expect_not_in(out, "CREATED");
    sbx_expect_not_in(out, "CONNECTED");
    /* Nothing knocked on the test's own port. */
    assert_int_equal(accept(ls, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(ls);
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

    if (sbx_no_sandbox())
        skip();
    assert_non_null(mkdtemp(host));
    snprintf(name, sizeof name, "codeinsight-canary-%d", (int)getpid());
    run = sbx_run1(f, "python", "fs.py", code, args);
    out = sbx_str(run, "stdout_tail");
    assert_int_equal(sbx_num(run, "exit"), 0);
    sbx_expect_not_in(out, "WROTE");
    sbx_expect_in(out, "wrote /work/out.txt\n");
    sbx_expect_in(out, "wrote /tmp/out.txt\n");
    sbx_expect_in(out, "wrote /dev/shm/out.txt\n");
    sbx_expect_in(out, "etc=alternatives,ld.so.cache,localtime\n");
    sbx_expect_in(out, "work=fs.py,out.txt\n");
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

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", "shadow.py",
                   "for p in ('/etc/shadow', '/etc/passwd', '/etc/gshadow', '/root/.bashrc'):\n"
                   "    try:\n"
                   "        print('READ', p, len(open(p).read()))\n"
                   "    except OSError as e:\n"
                   "        print('denied', p, e.errno)\n",
                   NULL);
    assert_int_equal(sbx_num(run, "exit"), 0);
    sbx_expect_in(sbx_str(run, "stdout_tail"), "denied /etc/shadow 2\n");
    sbx_expect_not_in(sbx_str(run, "stdout_tail"), "READ");
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

    if (sbx_no_sandbox())
        skip();
    assert_non_null(getenv("CODEINSIGHT_CANARY_SECRET"));
    run = sbx_run1(f, "python", "env.py", code, NULL);
    out = sbx_str(run, "stdout_tail");
    assert_int_equal(sbx_num(run, "exit"), 0);
    sbx_expect_in(out, "keys=HOME,LANG,PATH,PWD,TMPDIR\n");   /* PWD: bwrap --chdir */
    sbx_expect_in(out, "/proc/1/environ");    /* bwrap's own environment was read */
    sbx_expect_in(out, "hits=\n");
    sbx_expect_not_in(out, getenv("CODEINSIGHT_CANARY_SECRET"));
    sbx_expect_not_in(sbx_str(run, "stderr_tail"), getenv("CODEINSIGHT_CANARY_SECRET"));
}

/* A program that signals its process group (kill(0, ...)) reaches its own
 * session only: its run is reported as killed, with what it wrote, and the
 * launcher above it lives to say so (before --new-session, the launcher
 * died with it and the run was taken for a failed set-up quoting the
 * program's last line). */
static void test_group_kill_stays_inside(void **state)
{
    static const char code[] =
        "import os, signal, sys\n"
        "print('before the kill', file=sys.stderr, flush=True)\n"
        "os.kill(0, signal.SIGKILL)\n";
    struct fx *f = *state;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", "killer.py", code, NULL);
    assert_int_equal(sbx_num(run, "signal"), 9);
    assert_false(sbx_timed_out(run));
    sbx_expect_in(sbx_str(run, "stderr_tail"), "before the kill");
}

/* Memory outside RLIMIT_AS and the tmpfs caps cannot be had: System V
 * segments and queues are refused, memfd_create is absent; /tmp works. */
static void test_no_unaccounted_memory(void **state)
{
    static const char code[] =
        "import ctypes, errno, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def call(name, *args):\n"
        "    r = getattr(libc, name)(*args)\n"
        "    print(name, r, errno.errorcode.get(ctypes.get_errno(), 0) if r < 0 else 'ok')\n"
        "call('shmget', 0, 200 << 20, 0o1600)\n"
        "call('msgget', 0, 0o1600)\n"
        "call('memfd_create', b'x', 0)\n"
        "open('/tmp/t', 'wb').write(b'x' * 1000); print('tmp ok')\n";
    struct fx *f = *state;
    const char *out;
    cJSON *run;

    if (sbx_no_sandbox())
        skip();
    run = sbx_run1(f, "python", "mem.py", code, NULL);
    out = sbx_str(run, "stdout_tail");
    assert_int_equal(sbx_num(run, "exit"), 0);
    sbx_expect_in(out, "shmget -1 EPERM\n");
    sbx_expect_in(out, "msgget -1 EPERM\n");
    sbx_expect_in(out, "memfd_create -1 ENOSYS\n");
    sbx_expect_in(out, "tmp ok\n");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_network, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_file_system, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_no_shadow, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_environment_hidden, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_no_unaccounted_memory, sbx_setup, sbx_teardown),
        cmocka_unit_test_setup_teardown(test_group_kill_stays_inside, sbx_setup, sbx_teardown),
    };

    sbx_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
