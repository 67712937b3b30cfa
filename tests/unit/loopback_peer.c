/* loopback_peer.c - a loopback listener that reads, and answers when told. */
#include "tests/unit/loopback_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

void loopback_peer_start(struct loopback_peer *p)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t n = sizeof a;

    p->cfd = -1;
    p->got = 0;
    p->head[0] = '\0';
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(p->lfd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->lfd, 16), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &n), 0);
    p->port = ntohs(a.sin_port);
}

int loopback_peer_pending(struct loopback_peer *p)
{
    struct pollfd q = {.fd = p->lfd, .events = POLLIN};

    return poll(&q, 1, 0) == 1;
}

int loopback_peer_take(struct loopback_peer *p)
{
    char buf[4096];
    ssize_t r;

    if (p->cfd < 0)
        p->cfd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (p->cfd < 0)
        return 0;
    while ((r = recv(p->cfd, buf, sizeof buf, 0)) > 0) {
        size_t room = p->got < (long)sizeof p->head - 1 ? sizeof p->head - 1 - (size_t)p->got : 0;
        size_t take = (size_t)r < room ? (size_t)r : room;

        memcpy(p->head + p->got, buf, take);
        p->head[(size_t)p->got + take] = '\0';
        p->got += r;
    }
    return p->got > 0;
}

void loopback_peer_say(struct loopback_peer *p, const char *text)
{
    size_t n = strlen(text);

    assert_true(p->cfd >= 0);
    assert_int_equal(send(p->cfd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

int loopback_peer_closed(struct loopback_peer *p)
{
    char buf[4096];
    ssize_t r;

    if (p->cfd < 0)
        return 0;
    /* Drains what is left of the request first. */
    while ((r = recv(p->cfd, buf, sizeof buf, 0)) > 0)
        ;
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void loopback_peer_drop(struct loopback_peer *p)
{
    if (p->cfd >= 0)
        close(p->cfd);
    p->cfd = -1;
    p->got = 0;
    p->head[0] = '\0';
}

void loopback_peer_stop(struct loopback_peer *p)
{
    if (p->cfd >= 0)
        close(p->cfd);
    if (p->lfd >= 0)
        close(p->lfd);
    p->cfd = p->lfd = -1;
}
