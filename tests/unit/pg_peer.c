/* pg_peer.c - test support: PostgreSQL's start-up messages, server side. */
#include "tests/unit/pg_peer.h"

#include <unistd.h>

#define PG_SSL_REQUEST 80877103u
#define PG_GSS_REQUEST 80877104u

int pg_read_full(int fd, void *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t r = read(fd, (char *)buf + off, n - off);
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

uint32_t pg_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pg_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One start-up packet: its code, or 0. */
static uint32_t read_one(int fd, unsigned char *body, size_t cap)
{
    unsigned char head[8];
    uint32_t len;

    if (pg_read_full(fd, head, 8) < 0)
        return 0;
    len = pg_be32(head);
    if (len < 8 || len - 8 > cap || pg_read_full(fd, body, len - 8) < 0)
        return 0;
    return pg_be32(head + 4);
}

uint32_t pg_read_startup(int fd, unsigned char *body, size_t cap)
{
    uint32_t code;

    while ((code = read_one(fd, body, cap)) == PG_SSL_REQUEST || code == PG_GSS_REQUEST)
        if (write(fd, "N", 1) != 1)
            return 0;
    return code;
}
