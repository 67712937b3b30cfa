/* loopback_peer.h - test support: a loopback TCP listener that reads what
 * a client sends and answers only when told to.
 *
 * Clients connect (the kernel completes the handshake from the listen
 * backlog) and write their request, then wait for a reply that comes only
 * from loopback_peer_say: a model call or a Redis command stays out for as
 * long as a test needs. The test takes one connection at a time, reads what
 * was sent, and sees whether the client closed it (an aborted transfer).
 *
 *     struct loopback_peer p;
 *     loopback_peer_start(&p);                 // p.port: where to connect
 *     ... client connects and writes ...
 *     if (loopback_peer_take(&p)) ...          // a request was read
 *     loopback_peer_stop(&p);
 */
#ifndef TEST_LOOPBACK_PEER_H
#define TEST_LOOPBACK_PEER_H

struct loopback_peer {
    int lfd;                        /* listening socket */
    int port;
    int cfd;                        /* the connection taken, or -1 */
    long got;                       /* bytes read from it */
    char head[256];                 /* the first of them, NUL-terminated */
};

/* Listens on 127.0.0.1, a free port. Fails the test when it cannot. */
void loopback_peer_start(struct loopback_peer *p);

/* Without waiting: takes a pending connection unless one is held, and
 * reads what it sent so far (its first bytes kept in head). Returns 1 when
 * some bytes were read from it, now or before, else 0. */
int loopback_peer_take(struct loopback_peer *p);

/* Writes text to the connection taken (a reply). Fails the test when
 * there is none or it cannot be written. */
void loopback_peer_say(struct loopback_peer *p, const char *text);

/* Without waiting: 1 when the client closed the connection taken. */
int loopback_peer_closed(struct loopback_peer *p);

/* Closes the connection taken (the client sees it reset or closed without
 * a reply); the next loopback_peer_take takes the next connection. */
void loopback_peer_drop(struct loopback_peer *p);

/* Without waiting: 1 when a connection is waiting to be taken. */
int loopback_peer_pending(struct loopback_peer *p);

/* Closes everything. */
void loopback_peer_stop(struct loopback_peer *p);

#endif
