/* test_kv_pipeline.c - kv_pipeline and kv_eval_pipeline (common/kv.c), and
 * job_read_many (common/job.c) on them, against a few lines of Redis'
 * protocol on loopback: the commands go out together (the server can hold
 * every reply until it has them all), replies come back in order, a refusal
 * costs its own reply only, NOSCRIPT is answered by EVAL, and a connection
 * lost half-way keeps what was read. */
#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define TIMEOUT_MS 2000             /* a client waiting on a held reply fails, never hangs */
#define CMD_ARGS_MAX 16             /* arguments the fake parses in one command */
#define READ_CHUNK 65536
#define BIG_COUNT 1000              /* commands of the large pipeline */
#define BIG_ARG 2048                /* bytes of each one's argument: megabytes in all */

/* The fake server: one connection, commands PING, ECHO x, FAIL x (an error
 * reply), CLOSE (ends the connection, answering nothing more), EVALSHA and
 * EVAL (reply: their keys and args; EVALSHA answers NOSCRIPT until an EVAL
 * came). */
struct fake {
    int lfd;
    int port;
    int hold;                       /* answer nothing before this many commands came */
    int script_loaded;
    int commands, evals, evalshas;  /* counted; read after the thread ended */
    pthread_t th;
};

struct cmd {
    int argc;
    const char *argv[CMD_ARGS_MAX];
    size_t lens[CMD_ARGS_MAX];
};

static int write_full(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads "<c><number>\r\n" at p (n bytes). Returns the bytes it took, 0 when
 * incomplete, -1 when malformed. */
static long header(const char *p, size_t n, char c, long *v)
{
    const char *nl;
    char *end;

    if (n == 0 || (nl = memchr(p, '\n', n)) == NULL)
        return 0;
    if (p[0] != c)
        return -1;
    *v = strtol(p + 1, &end, 10);
    if (end == p + 1 || end + 1 != nl || *end != '\r' || *v < 0)
        return -1;
    return nl + 1 - p;
}

/* Parses one command at p; returns its bytes, 0 when incomplete, -1 when
 * malformed. */
static long parse(const char *p, size_t n, struct cmd *c)
{
    long argc, used, off;

    if ((used = header(p, n, '*', &argc)) <= 0)
        return used;
    if (argc < 1 || argc > CMD_ARGS_MAX)
        return -1;
    off = used;
    c->argc = (int)argc;
    for (long i = 0; i < argc; i++) {
        long len;
        if ((used = header(p + off, n - (size_t)off, '$', &len)) <= 0)
            return used;
        off += used;
        if ((size_t)(off + len + 2) > n)
            return 0;
        c->argv[i] = p + off;
        c->lens[i] = (size_t)len;
        off += len + 2;
    }
    return off;
}

static int is(const struct cmd *c, const char *name)
{
    return c->lens[0] == strlen(name) && memcmp(c->argv[0], name, c->lens[0]) == 0;
}

static int bulk(int fd, const char *p, size_t n)
{
    char h[32];
    int hl = snprintf(h, sizeof h, "$%zu\r\n", n);

    return write_full(fd, h, (size_t)hl) || write_full(fd, p, n) || write_full(fd, "\r\n", 2);
}

/* Answers c; returns 1 when the connection is to end. */
static int answer(struct fake *f, int fd, const struct cmd *c)
{
    char h[32];
    int hl;

    f->commands++;
    if (is(c, "CLOSE"))
        return 1;
    if (is(c, "PING"))
        return write_full(fd, "+PONG\r\n", 7) != 0;
    if (is(c, "ECHO") && c->argc == 2)
        return bulk(fd, c->argv[1], c->lens[1]) != 0;
    if (is(c, "FAIL") && c->argc == 2)
        return write_full(fd, "-ERR ", 5) || write_full(fd, c->argv[1], c->lens[1]) ||
               write_full(fd, "\r\n", 2);
    if ((is(c, "EVALSHA") || is(c, "EVAL")) && c->argc >= 3) {
        if (is(c, "EVAL")) {
            f->evals++;
            f->script_loaded = 1;
        } else {
            f->evalshas++;
            if (!f->script_loaded) {
                static const char ns[] = "-NOSCRIPT No matching script. Please use EVAL.\r\n";
                return write_full(fd, ns, sizeof ns - 1) != 0;
            }
        }
        hl = snprintf(h, sizeof h, "*%d\r\n", c->argc - 2);
        if (write_full(fd, h, (size_t)hl))
            return 1;
        for (int i = 2; i < c->argc; i++)
            if (bulk(fd, c->argv[i], c->lens[i]))
                return 1;
        return 0;
    }
    return write_full(fd, "-ERR unknown command\r\n", 22) != 0;
}

static void *serve(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL), counted = 0, end = 0;
    size_t len = 0, cap = 4 * READ_CHUNK, scanned = 0, answered = 0;
    char *buf = malloc(cap), sink[256];

    if (fd < 0 || buf == NULL) {
        free(buf);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    while (!end) {
        struct cmd c;
        long used;
        ssize_t r;

        while ((used = parse(buf + scanned, len - scanned, &c)) > 0) {
            scanned += (size_t)used;
            counted++;
        }
        if (used < 0)
            break;
        if (counted >= f->hold) {
            while (!end && answered < scanned) {
                used = parse(buf + answered, scanned - answered, &c);
                answered += (size_t)used;
                end = answer(f, fd, &c);
            }
            if (end)
                break;
        }
        if (cap - len < READ_CHUNK) {
            char *nb = realloc(buf, cap + 4 * READ_CHUNK);
            if (nb == NULL)
                break;
            buf = nb;
            cap += 4 * READ_CHUNK;
        }
        if ((r = read(fd, buf + len, cap - len)) <= 0)
            break;
        len += (size_t)r;
    }
    /* A FIN after the replies, then whatever the client still sends is
     * read, so close() does not reset the connection under unread replies. */
    shutdown(fd, SHUT_WR);
    while (read(fd, sink, sizeof sink) > 0)
        ;
    close(fd);
    free(buf);
    return NULL;
}

/* Starts the fake (its script cache holding the script when loaded) and
 * connects to it. */
static struct kv *fake_start(struct fake *f, int hold, int loaded)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    struct kv_url url = {0};
    struct kv *kv;
    struct err e;

    memset(f, 0, sizeof *f);
    f->hold = hold;
    f->script_loaded = loaded;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 1), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
    snprintf(url.host, sizeof url.host, "127.0.0.1");
    url.port = f->port;
    err_clear(&e);
    kv = kv_connect(&url, TIMEOUT_MS, &e);
    assert_non_null(kv);
    return kv;
}

/* Frees the connection and waits for the server to end. */
static void fake_stop(struct fake *f, struct kv *kv)
{
    kv_free(kv);
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static void assert_str(const cJSON *v, const char *s)
{
    assert_non_null(v);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, s);
}

static void free_all(cJSON **r, int n)
{
    for (int i = 0; i < n; i++)
        cJSON_Delete(r[i]);
}

static void test_replies_in_order(void **state)
{
    struct kv_cmd c[5] = {
        {2, (const char *[]){"ECHO", "a"}, NULL},
        {2, (const char *[]){"ECHO", "bb"}, NULL},
        {2, (const char *[]){"FAIL", "nope"}, NULL},
        {2, (const char *[]){"ECHO", "cdef"}, (const size_t[]){4, 2}},
        {1, (const char *[]){"PING"}, NULL},
    };
    cJSON *r[5];
    struct fake f;
    struct kv *kv = fake_start(&f, 5, 0);     /* no reply before all five came */
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(kv_pipeline(kv, 5, c, r, &e), ERR_PROTOCOL);
    assert_int_equal(e.code, ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "nope"));
    assert_str(r[0], "a");
    assert_str(r[1], "bb");
    assert_null(r[2]);
    assert_str(r[3], "cd");     /* lens, not strlen */
    assert_str(r[4], "PONG");
    free_all(r, 5);
    /* The connection is still in step. */
    assert_int_equal(kv_call(kv, 2, (const char *[]){"ECHO", "after"}, NULL, &r[0], &e), ERR_OK);
    assert_str(r[0], "after");
    cJSON_Delete(r[0]);
    assert_int_equal(kv_broken(kv), 0);
    fake_stop(&f, kv);
    assert_int_equal(f.commands, 6);
}

static void test_many_large_commands(void **state)
{
    static struct kv_cmd c[BIG_COUNT];
    static const char *argv[BIG_COUNT][2];
    static cJSON *r[BIG_COUNT];
    char *args = malloc((size_t)BIG_COUNT * (BIG_ARG + 1));
    struct fake f;
    struct kv *kv = fake_start(&f, BIG_COUNT, 0);
    struct err e;

    (void)state;
    assert_non_null(args);
    for (int i = 0; i < BIG_COUNT; i++) {
        char *a = args + (size_t)i * (BIG_ARG + 1);
        memset(a, 'a' + i % 26, BIG_ARG);
        snprintf(a, BIG_ARG, "%d", i);
        a[strlen(a)] = '-';
        a[BIG_ARG] = '\0';
        argv[i][0] = "ECHO";
        argv[i][1] = a;
        c[i] = (struct kv_cmd){2, argv[i], NULL};
    }
    err_clear(&e);
    assert_int_equal(kv_pipeline(kv, BIG_COUNT, c, r, &e), ERR_OK);
    for (int i = 0; i < BIG_COUNT; i++)
        assert_str(r[i], argv[i][1]);
    free_all(r, BIG_COUNT);
    fake_stop(&f, kv);
    assert_int_equal(f.commands, BIG_COUNT);
    free(args);
}

static void test_noscript_runs_again_with_eval(void **state)
{
    struct kv_script s = {"echo", "return 1", 8, ""};
    struct kv_cmd c[3] = {
        {1, (const char *[]){"k0"}, NULL},
        {3, (const char *[]){"k1", "s1", "e1"}, NULL},
        {2, (const char *[]){"k2", "a2"}, NULL},
    };
    const int nkeys[3] = {1, 2, 1};
    cJSON *r[3];
    struct fake f;
    struct kv *kv = fake_start(&f, 3, 0);
    struct err e;

    (void)state;
    kv_script_init(&s);
    err_clear(&e);
    assert_int_equal(kv_eval_pipeline(kv, &s, 3, nkeys, c, r, &e), ERR_OK);
    for (int i = 0; i < 3; i++) {
        /* The fake answers its keys and args, after EVALSHA <sha> <nkeys>. */
        assert_true(cJSON_IsArray(r[i]));
        assert_int_equal(cJSON_GetArraySize(r[i]), 1 + c[i].argc);
        assert_str(cJSON_GetArrayItem(r[i], 0), i == 1 ? "2" : "1");
        for (int k = 0; k < c[i].argc; k++)
            assert_str(cJSON_GetArrayItem(r[i], k + 1), c[i].argv[k]);
    }
    free_all(r, 3);
    /* Loaded now: one pipeline, no EVAL. */
    assert_int_equal(kv_eval_pipeline(kv, &s, 3, nkeys, c, r, &e), ERR_OK);
    assert_str(cJSON_GetArrayItem(r[2], 2), "a2");
    free_all(r, 3);
    fake_stop(&f, kv);
    /* 3 NOSCRIPT; then EVALSHA, EVAL for the first, EVALSHA for the others;
     * then 3 EVALSHA. */
    assert_int_equal(f.evals, 1);
    assert_int_equal(f.evalshas, 3 + 3 + 3);
}

static void test_connection_lost_keeps_earlier_replies(void **state)
{
    struct kv_cmd c[4] = {
        {2, (const char *[]){"ECHO", "a"}, NULL},
        {2, (const char *[]){"ECHO", "b"}, NULL},
        {1, (const char *[]){"CLOSE"}, NULL},
        {2, (const char *[]){"ECHO", "c"}, NULL},
    };
    cJSON *r[4];
    struct fake f;
    struct kv *kv = fake_start(&f, 4, 0);
    struct err e;
    static cJSON placeholder;

    (void)state;
    err_clear(&e);
    assert_int_equal(kv_pipeline(kv, 4, c, r, &e), ERR_REDIS_UNAVAILABLE);
    assert_str(r[0], "a");
    assert_str(r[1], "b");
    assert_null(r[2]);
    assert_null(r[3]);
    free_all(r, 4);
    assert_int_equal(kv_broken(kv), 1);
    /* A broken connection is refused at once, every reply NULL. */
    r[0] = &placeholder;
    assert_int_equal(kv_pipeline(kv, 1, c, r, &e), ERR_REDIS_UNAVAILABLE);
    assert_null(r[0]);
    fake_stop(&f, kv);
}

static void test_bad_command_keeps_the_connection_in_step(void **state)
{
    struct kv_cmd c[3] = {
        {2, (const char *[]){"ECHO", "a"}, NULL},
        {0, (const char *[]){"ECHO"}, NULL},       /* no argument at all: refused */
        {2, (const char *[]){"ECHO", "b"}, NULL},
    };
    cJSON *r[3];
    struct fake f;
    struct kv *kv = fake_start(&f, 0, 0);
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(kv_pipeline(kv, 3, c, r, &e), ERR_INTERNAL);
    assert_str(r[0], "a");
    assert_null(r[1]);
    assert_null(r[2]);
    free_all(r, 3);
    assert_int_equal(kv_pipeline(kv, 0, c, r, &e), ERR_OK);
    assert_int_equal(kv_pipeline(kv, KV_PIPELINE_MAX + 1, c, r, &e), ERR_INTERNAL);
    assert_int_equal(kv_pipeline(kv, -1, c, r, &e), ERR_INTERNAL);
    assert_int_equal(kv_call(kv, 1, (const char *[]){"PING"}, NULL, &r[0], &e), ERR_OK);
    assert_str(r[0], "PONG");
    cJSON_Delete(r[0]);
    fake_stop(&f, kv);
    assert_int_equal(f.commands, 2);
}

/* job_read_many gives call i job i's keys and entry id, exactly what
 * job_read gives its one call, in order, whichever ids name an entry. */
static void test_job_read_many_keys_in_order(void **state)
{
    static const char *const ids[] = {
        "0193433e-a87b-7012-8000-0053456789ab",     /* names an entry of the fast stream */
        "0193433e-a87b-7012-9fff-ffe3456789ab",     /* ...of the heavy stream */
        "0193433e-a87b-4012-8000-0053456789ab",     /* a UUIDv4: the hash alone */
        "0193433e-a87b-7012-8000-0053456789ac",
    };
    enum { N = sizeof ids / sizeof ids[0] };
    cJSON *flats[N];
    struct fake f;
    struct kv *kv = fake_start(&f, 1, 1);
    struct err e;

    (void)state;
    job_scripts_init();
    err_clear(&e);
    assert_int_equal(job_read_many(kv, N, ids, flats, &e), ERR_OK);
    for (int i = 0; i < N; i++) {
        char key[JOB_KEY_MAX], eid[JOB_ENTRY_ID_MAX];
        const char *stream = NULL;
        int nkeys = job_read_keys(ids[i], key, &stream, eid);

        assert_int_equal(cJSON_GetArraySize(flats[i]), 1 + 2 * nkeys - 1);
        assert_str(cJSON_GetArrayItem(flats[i], 0), nkeys == 2 ? "2" : "1");
        assert_str(cJSON_GetArrayItem(flats[i], 1), key);
        if (nkeys == 2) {
            assert_str(cJSON_GetArrayItem(flats[i], 2), stream);
            assert_str(cJSON_GetArrayItem(flats[i], 3), eid);
        }
    }
    free_all(flats, N);
    assert_int_equal(job_read_many(kv, 0, ids, flats, &e), ERR_OK);
    fake_stop(&f, kv);
    assert_int_equal(f.evalshas, N);
    assert_int_equal(f.evals, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replies_in_order),
        cmocka_unit_test(test_many_large_commands),
        cmocka_unit_test(test_noscript_runs_again_with_eval),
        cmocka_unit_test(test_connection_lost_keeps_earlier_replies),
        cmocka_unit_test(test_bad_command_keeps_the_connection_in_step),
        cmocka_unit_test(test_job_read_many_keys_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
