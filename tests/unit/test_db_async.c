/* test_db_async.c - db_async's contract when the connection breaks under a
 * query: the callback never runs inside db_async_query, and runs exactly
 * once. The server is a few lines of PostgreSQL's protocol on loopback: it
 * accepts the start-up, says ReadyForQuery, then resets the connection. */
#include "common/db_async.h"
#include "common/err.h"
#include "common/log.h"
#include "common/loop.h"
#include "tests/unit/pg_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define BIG_PARAM (64 * 1024)       /* more than libpq buffers before writing */
#define SPIN_MS 5000

struct server {
    int lfd;
    int port;
    int go[2];                      /* main -> server: reset now */
};

struct fx {
    struct loop *loop;
    struct loop_timer *guard;
    int guard_fired;
    int in_call;                    /* inside db_async_query */
    int called;
    int called_in_call;
    int code;
};

static void *serve(void *arg)
{
    static const unsigned char ok[] = {'R', 0, 0, 0, 8, 0, 0, 0, 0, 'Z', 0, 0, 0, 5, 'I'};
    struct server *sv = arg;
    struct linger lg = {1, 0};
    int fd = accept(sv->lfd, NULL, NULL);
    unsigned char body[1024];
    uint32_t code;
    char c;

    if (fd < 0)
        return NULL;
    code = pg_read_startup(fd, body, sizeof body);
    if (code == PG_PROTOCOL_3 && write(fd, ok, sizeof ok) == (ssize_t)sizeof ok &&
        read(sv->go[0], &c, 1) == 1) {
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);  /* close sends RST */
    }
    close(fd);
    return NULL;
}

static void on_guard(void *arg)
{
    struct fx *f = arg;

    f->guard_fired = 1;
    loop_stop(f->loop);
}

static void on_query(void *arg, const char *value, const struct err *e)
{
    struct fx *f = arg;

    (void)value;
    f->called++;
    f->called_in_call |= f->in_call;
    f->code = e != NULL ? e->code : ERR_OK;
    loop_stop(f->loop);
}

/* Runs the loop until done() holds or SPIN_MS pass. */
static void spin(struct fx *f, int (*done)(struct fx *, struct db_async *), struct db_async *db)
{
    f->guard_fired = 0;
    loop_timer_start(f->guard, SPIN_MS, 0);
    while (!f->guard_fired && !done(f, db))
        loop_run(f->loop);
    loop_timer_stop(f->guard);
}

static int connected(struct fx *f, struct db_async *db)
{
    (void)f;
    return db_async_connected(db);
}

static int answered(struct fx *f, struct db_async *db)
{
    (void)db;
    return f->called > 0;
}

static void test_reset_under_query(void **state)
{
    struct server sv;
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    struct fx f = {0};
    struct db_async *db;
    struct err e;
    pthread_t th;
    char url[160], *big = malloc(BIG_PARAM + 1);
    const char *params[1] = {big};
    int rc;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', BIG_PARAM);
    big[BIG_PARAM] = '\0';
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(sv.lfd >= 0);
    assert_int_equal(bind(sv.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv.lfd, 1), 0);
    assert_int_equal(getsockname(sv.lfd, (struct sockaddr *)&a, &alen), 0);
    sv.port = ntohs(a.sin_port);
    assert_int_equal(pipe(sv.go), 0);
    assert_int_equal(pthread_create(&th, NULL, serve, &sv), 0);

    f.loop = loop_new(&e);
    assert_non_null(f.loop);
    f.guard = loop_timer_new(f.loop, on_guard, &f);
    snprintf(url, sizeof url, "postgresql://ci@127.0.0.1:%d/ci?sslmode=disable"
             "&gssencmode=disable&connect_timeout=5", sv.port);
    db = db_async_new(f.loop, url, &e);
    assert_non_null(db);
    spin(&f, connected, db);
    assert_true(db_async_connected(db));

    /* The server resets the connection; the client does not know yet. */
    assert_int_equal(write(sv.go[1], "r", 1), 1);
    pthread_join(th, NULL);
    usleep(100 * 1000);

    f.in_call = 1;
    rc = db_async_query(db, "SELECT $1", 1, params, on_query, &f, &e);
    f.in_call = 0;
    assert_int_equal(f.called_in_call, 0);
    if (rc == ERR_OK) {
        spin(&f, answered, db);
        assert_int_equal(f.called, 1);
        assert_int_equal(f.code, ERR_DATABASE_UNAVAILABLE);
    } else {
        assert_int_equal(f.called, 0);
    }
    /* The broken connection refuses new queries at once, calling nothing. */
    f.called = 0;
    f.in_call = 1;
    rc = db_async_query(db, "SELECT 1", 0, NULL, on_query, &f, &e);
    f.in_call = 0;
    assert_int_equal(rc, ERR_DATABASE_UNAVAILABLE);
    assert_int_equal(f.called, 0);

    db_async_free(db);
    loop_timer_free(f.guard);
    loop_free(f.loop);
    close(sv.lfd);
    close(sv.go[0]);
    close(sv.go[1]);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_under_query),
    };

    log_init("test", LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
