/* test_db.c - common/db.c against a few lines of PostgreSQL's protocol on
 * loopback: answers come through the sliced wait as PQexec gave them (the
 * last result of several, an error among them); a query the server never
 * answers gives up on db_abort_request from another thread, sends the
 * server a cancel request with the connection's key, and later queries
 * fail at once. An alarm ends the binary if a wait is not bounded. */
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/unit/pg_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Seconds the whole binary may take: a wait that is not bounded fails it. */
#define TEST_ALARM_S 20
#define MSG_MAX 4096
#define FAKE_PID 4242u
#define FAKE_KEY 0x5eedu

struct server {
    int lfd;
    int port;
    int go[2];                      /* test -> server: end now */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int query_seen;                 /* a query arrived (and is not answered) */
    uint32_t cancel_pid, cancel_key;/* from the cancel request; 0: none */
    int terminated;                 /* the client said goodbye ('X') */
};

/* Reads one message: its type, or 0 at the end. */
static int read_msg(int fd)
{
    unsigned char head[5], body[MSG_MAX];
    uint32_t len;

    if (pg_read_full(fd, head, 5) < 0)
        return 0;
    len = pg_be32(head + 1);
    if (len < 4 || len - 4 > sizeof body || pg_read_full(fd, body, len - 4) < 0)
        return 0;
    return head[0];
}

/* On the server's thread, where cmocka cannot assert: a failed write shows
 * as a broken connection on the client's side. */
static void send_msg(int fd, char type, const void *body, size_t n)
{
    unsigned char head[5] = {(unsigned char)type};

    pg_put32(head + 1, (uint32_t)(n + 4));
    if (write(fd, head, 5) == 5 && n > 0 && write(fd, body, n) != (ssize_t)n)
        shutdown(fd, SHUT_RDWR);
}

static void send_ready(int fd)
{
    send_msg(fd, 'Z', "I", 1);
}

/* Accepts the client's connection and says it is ready. Returns it, or -1. */
static int serve_start(struct server *sv)
{
    unsigned char body[MSG_MAX], key[8];
    int fd = accept(sv->lfd, NULL, NULL);
    uint32_t code;

    if (fd < 0)
        return -1;
    if ((code = pg_read_startup(fd, body, sizeof body)) != PG_PROTOCOL_3) {
        close(fd);
        return -1;
    }
    send_msg(fd, 'R', "\0\0\0\0", 4);                /* AuthenticationOk */
    pg_put32(key, FAKE_PID);
    pg_put32(key + 4, FAKE_KEY);
    send_msg(fd, 'K', key, sizeof key);
    send_ready(fd);
    return fd;
}

/* Reads messages up to the end of a query (Sync, or a simple Query). */
static int read_query(int fd)
{
    int t;

    while ((t = read_msg(fd)) != 0 && t != 'S' && t != 'Q')
        ;
    return t;
}

static void serve_end(struct server *sv, int fd)
{
    char c;

    /* Until the test says so, or the client goes. */
    if (read(sv->go[0], &c, 1) < 0)
        c = 0;
    close(fd);
}

/* Never answers the query; takes the cancel request on a second connection. */
static void *serve_silent(void *arg)
{
    struct server *sv = arg;
    unsigned char body[MSG_MAX];
    int fd = serve_start(sv), cfd;

    if (fd < 0 || read_query(fd) == 0)
        return NULL;
    pthread_mutex_lock(&sv->mu);
    sv->query_seen = 1;
    pthread_cond_broadcast(&sv->cv);
    pthread_mutex_unlock(&sv->mu);
    cfd = accept(sv->lfd, NULL, NULL);
    if (cfd >= 0 && pg_read_startup(cfd, body, sizeof body) == PG_CANCEL_CODE) {
        pthread_mutex_lock(&sv->mu);
        sv->cancel_pid = pg_be32(body);
        sv->cancel_key = pg_be32(body + 4);
        pthread_mutex_unlock(&sv->mu);
    }
    if (cfd >= 0)
        close(cfd);                 /* the cancel request is done */
    serve_end(sv, fd);
    return NULL;
}

/* Answers "SELECT $1" with one row, "42", then a simple query of two
 * statements with the second's error, then waits for the goodbye. */
static void *serve_answers(void *arg)
{
    static const unsigned char row_desc[] = {
        0, 1, 'v', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0};
    static const unsigned char data_row[] = {0, 1, 0, 0, 0, 2, '4', '2'};
    static const char error[] = "SERROR\0VERROR\0C42601\0Mboom\0";
    struct server *sv = arg;
    int fd = serve_start(sv), t;

    if (fd < 0 || read_query(fd) != 'S')
        return NULL;
    send_msg(fd, '1', NULL, 0);
    send_msg(fd, '2', NULL, 0);
    send_msg(fd, 'T', row_desc, sizeof row_desc);
    send_msg(fd, 'D', data_row, sizeof data_row);
    send_msg(fd, 'C', "SELECT 1", sizeof "SELECT 1");
    send_ready(fd);
    if (read_query(fd) != 'Q')
        return NULL;
    send_msg(fd, 'C', "CREATE TABLE", sizeof "CREATE TABLE");
    send_msg(fd, 'E', error, sizeof error);     /* ends with the NUL the format wants */
    send_ready(fd);
    while ((t = read_msg(fd)) != 0 && t != 'X')
        ;
    pthread_mutex_lock(&sv->mu);
    sv->terminated = t == 'X';
    pthread_mutex_unlock(&sv->mu);
    close(fd);
    return NULL;
}

static void server_open(struct server *sv, void *(*fn)(void *), pthread_t *th)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;

    memset(sv, 0, sizeof *sv);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(sv->lfd >= 0);
    assert_int_equal(bind(sv->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->lfd, 4), 0);
    assert_int_equal(getsockname(sv->lfd, (struct sockaddr *)&a, &alen), 0);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(pipe(sv->go), 0);
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->cv, NULL);
    assert_int_equal(pthread_create(th, NULL, fn, sv), 0);
}

static void server_close(struct server *sv, pthread_t th)
{
    assert_int_equal(write(sv->go[1], "x", 1), 1);
    pthread_join(th, NULL);
    close(sv->lfd);
    close(sv->go[0]);
    close(sv->go[1]);
    pthread_cond_destroy(&sv->cv);
    pthread_mutex_destroy(&sv->mu);
}

static struct db *connect_to(const struct server *sv, struct db_abort *abort)
{
    char url[160];
    struct err e;
    struct db *db;

    snprintf(url, sizeof url, "postgresql://ci@127.0.0.1:%d/ci?sslmode=disable"
             "&gssencmode=disable&connect_timeout=5", sv->port);
    db = db_connect(url, abort, &e);
    if (db == NULL)
        fail_msg("connect: %s", e.msg);
    return db;
}

static void test_answers_as_pqexec_gave_them(void **state)
{
    struct server sv;
    struct db_abort stop = {0};
    pthread_t th;
    struct db *db;
    struct err e;
    char *v = NULL;

    (void)state;
    server_open(&sv, serve_answers, &th);
    db = connect_to(&sv, &stop);
    assert_int_equal(db_query_value(db, "SELECT $1", 1, (const char *const[]){"42"}, &v, &e),
                     ERR_OK);
    assert_string_equal(v, "42");
    assert_string_equal(db_error_state(db), "");
    free(v);
    /* The second statement's error, not the first's success. */
    assert_int_equal(db_exec(db, "CREATE TABLE t(); SELEC", &e), ERR_PROTOCOL);
    assert_non_null(strstr(e.msg, "boom"));
    assert_string_equal(db_error_state(db), "42601");
    assert_int_equal(db_abort_cancelled(&stop), 0);
    db_free(db);
    server_close(&sv, th);
    assert_int_equal(sv.terminated, 1);
}

struct query_run {
    struct db *db;
    int rc;
    struct err e;
};

static void *run_query(void *arg)
{
    struct query_run *q = arg;
    char *v = NULL;

    q->rc = db_query_value(q->db, "SELECT 1 FROM api_keys", 0, NULL, &v, &q->e);
    free(v);
    return NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_abort_gives_up_a_query_in_flight(void **state)
{
    struct server sv;
    struct db_abort stop = {0};
    struct query_run q = {0};
    pthread_t th, client;
    int64_t t0;
    char *v = NULL;
    struct err e;

    (void)state;
    server_open(&sv, serve_silent, &th);
    q.db = connect_to(&sv, &stop);
    assert_int_equal(pthread_create(&client, NULL, run_query, &q), 0);
    pthread_mutex_lock(&sv.mu);
    while (!sv.query_seen)
        pthread_cond_wait(&sv.cv, &sv.mu);
    pthread_mutex_unlock(&sv.mu);

    t0 = now_ms();
    db_abort_request(&stop);
    pthread_join(client, NULL);
    assert_true(now_ms() - t0 < 10 * DB_ABORT_POLL_MS);
    assert_int_equal(q.rc, ERR_DATABASE_UNAVAILABLE);
    assert_int_equal(q.e.http_status, 503);
    assert_int_equal(db_abort_cancelled(&stop), 1);
    /* The server was asked to cancel that connection's query. */
    pthread_mutex_lock(&sv.mu);
    assert_int_equal(sv.cancel_pid, FAKE_PID);
    assert_int_equal(sv.cancel_key, FAKE_KEY);
    pthread_mutex_unlock(&sv.mu);

    /* Later queries are not sent (the server would never answer them). */
    assert_int_equal(db_query_value(q.db, "SELECT 1", 0, NULL, &v, &e),
                     ERR_DATABASE_UNAVAILABLE);
    assert_null(v);
    assert_int_equal(db_exec(q.db, "ROLLBACK", NULL), ERR_DATABASE_UNAVAILABLE);
    assert_int_equal(db_abort_cancelled(&stop), 1);
    db_free(q.db);
    server_close(&sv, th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_as_pqexec_gave_them),
        cmocka_unit_test(test_abort_gives_up_a_query_in_flight),
    };

    log_init("test", LOG_ERROR);
    alarm(TEST_ALARM_S);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
