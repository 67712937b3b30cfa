/* cidr.c - IP addresses and networks. */
#include "common/cidr.h"

#include "common/err.h"
#include "common/items.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Reads a bare address (no brackets, no prefix) from a NUL-terminated s. */
static int parse_addr(const char *s, struct cidr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
        return 1;
    }
    if (inet_pton(AF_INET6, s, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
        return 1;
    }
    return 0;
}

/* An IPv4-mapped IPv6 address becomes the IPv4 address; a network keeps
 * its length (::ffff:10.0.0.0/104 is 10.0.0.0/8). */
static void unmap(struct cidr *c)
{
    if (c->family != AF_INET6 || memcmp(c->addr, v4_mapped, sizeof v4_mapped) != 0 ||
        c->prefix < 96)
        return;
    memmove(c->addr, c->addr + 12, 4);
    memset(c->addr + 4, 0, 12);
    c->family = AF_INET;
    c->prefix -= 96;
}

int cidr_parse(const char *text, size_t n, struct cidr *out)
{
    char buf[CIDR_TEXT_MAX];
    const char *slash;
    size_t alen;
    long bits = -1;
    int ok;

    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    slash = strchr(buf, '/');
    alen = slash ? (size_t)(slash - buf) : n;
    if (slash != NULL) {
        const char *d = slash + 1;

        bits = 0;
        if (*d == '\0')
            return -1;
        for (; *d != '\0'; d++) {          /* leading zeros allowed, as strtol did */
            if (!isdigit((unsigned char)*d))
                return -1;
            bits = bits * 10 + (*d - '0');
            if (bits > 128)
                return -1;
        }
    }
    buf[alen] = '\0';
    if (alen >= 2 && buf[0] == '[' && buf[alen - 1] == ']') {
        buf[alen - 1] = '\0';
        ok = parse_addr(buf + 1, out) && out->family == AF_INET6;
    } else {
        ok = parse_addr(buf, out);
    }
    if (!ok)
        return slash ? -1 : 0;
    if (bits > out->prefix)
        return -1;
    if (bits >= 0)
        out->prefix = (int)bits;
    return 1;
}

/* 1 when p is a port number: 1-5 digits, at most 65535. */
static int port_ok(const char *p)
{
    size_t n = strlen(p);
    long port = 0;

    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return 0;
        port = port * 10 + (p[i] - '0');
    }
    return port <= 65535;
}

int cidr_parse_host(const char *text, size_t n, struct cidr *out)
{
    char buf[CIDR_TEXT_MAX], *port = NULL;

    if (n == 0 || n >= sizeof buf || memchr(text, '/', n) != NULL)
        return 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (buf[0] == '[') {                    /* "[v6]" or "[v6]:port" */
        char *close = strchr(buf, ']');

        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return 0;
        if (close[1] == ':')
            port = close + 1;
    } else if ((port = strchr(buf, ':')) != NULL && strchr(port + 1, ':') != NULL) {
        port = NULL;                        /* a bare IPv6 address: the colons are its own */
    }
    if (port != NULL) {                     /* one colon before it: "a.b.c.d:port" */
        if (!port_ok(port + 1))
            return 0;
        *port = '\0';
    }
    if (cidr_parse(buf, strlen(buf), out) != 1)
        return 0;
    unmap(out);
    return 1;
}

int cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out)
{
    memset(out, 0, sizeof *out);
    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET) {
        memcpy(out->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        out->family = AF_INET;
        out->prefix = 32;
        return 1;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        out->family = AF_INET6;
        out->prefix = 128;
        unmap(out);
        return 1;
    }
    return 0;
}

int cidr_prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, net, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((a[whole] ^ net[whole]) & (0xff << (8 - rest))) == 0;
}

int cidr_contains(const struct cidr *net, const struct cidr *addr)
{
    return net->family == addr->family && cidr_prefix_match(addr->addr, net->addr, net->prefix);
}

int cidr_list_parse(const char *list, const char *var, struct cidr_list *out, struct err *e)
{
    const char *s = list, *item;
    size_t n;

    out->n = 0;
    while (items_next(&s, &item, &n)) {
        if (out->n == CIDR_LIST_MAX)
            return err_set(e, ERR_CONFIG, "%s: more than %d entries", var, CIDR_LIST_MAX);
        if (cidr_parse(item, n, &out->v[out->n]) != 1)
            return err_set(e, ERR_CONFIG, "%s: \"%.*s\" is not an IP address or a CIDR", var,
                           n > 80 ? 80 : (int)n, item);
        unmap(&out->v[out->n++]);
    }
    return ERR_OK;
}

int cidr_list_contains(const struct cidr_list *l, const struct cidr *addr)
{
    for (int i = 0; i < l->n; i++)
        if (cidr_contains(&l->v[i], addr))
            return 1;
    return 0;
}

void cidr_truncate(struct cidr *c, int prefix)
{
    int bytes = c->family == AF_INET ? 4 : 16;

    if (prefix < 0)
        prefix = 0;
    if (prefix >= c->prefix)
        return;
    c->prefix = prefix;
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - 8 * i;

        if (keep <= 0)
            c->addr[i] = 0;
        else if (keep < 8)
            c->addr[i] &= (unsigned char)(0xff << (8 - keep));
    }
}

void cidr_format(const struct cidr *addr, char *out, size_t cap)
{
    if (cap == 0)
        return;
    if (inet_ntop(addr->family, addr->addr, out, (socklen_t)cap) == NULL)
        snprintf(out, cap, "unknown");
}
