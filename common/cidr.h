/* cidr.h - IP addresses and networks ("10.0.0.0/8", "fd00::/8") as
 * settings and headers write them.
 *
 * An address is a network of full length (/32, /128). cidr_parse_host,
 * cidr_from_sockaddr and cidr_list_parse read an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) as the IPv4 address it carries, so a peer on a
 * dual-stack socket matches an IPv4 entry; cidr_parse keeps it as written.
 * Pure functions.
 */
#ifndef CI_CIDR_H
#define CI_CIDR_H

#include <stddef.h>

struct err;
struct sockaddr;

struct cidr {
    int family;                     /* AF_INET or AF_INET6 */
    int prefix;                     /* leading bits of addr that must match */
    unsigned char addr[16];         /* network order; 4 bytes used for AF_INET */
};

/* Longest text of an address or network: "[IPv6]/128" and its NUL. */
#define CIDR_TEXT_MAX 64

/* Most networks in one list. */
#define CIDR_LIST_MAX 64

struct cidr_list {
    int n;
    struct cidr v[CIDR_LIST_MAX];
};

/* Parses text[0..n): "addr" or "addr/prefix", brackets allowed around an
 * IPv6 address. Returns 1; 0 when the text is not an address at all; -1
 * when it is one with a bad prefix. */
int cidr_parse(const char *text, size_t n, struct cidr *out);

/* Parses an address as a peer or proxy writes it, text[0..n): "1.2.3.4",
 * "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:80".
 * Returns 1, or 0 when it is none of these. */
int cidr_parse_host(const char *text, size_t n, struct cidr *out);

/* The address of a sockaddr_in or sockaddr_in6; 0 for any other family. */
int cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out);

/* 1 when the first bits bytes of a and net are equal. */
int cidr_prefix_match(const unsigned char *a, const unsigned char *net, int bits);

/* 1 when the address addr (its prefix is not looked at) is inside net. */
int cidr_contains(const struct cidr *net, const struct cidr *addr);

/* Parses a comma-separated list of addresses and networks into out, for
 * the setting named var (spaces around entries ignored; "" is an empty
 * list). Returns ERR_OK, or ERR_CONFIG naming var and the bad entry. */
int cidr_list_parse(const char *list, const char *var, struct cidr_list *out, struct err *e);

/* 1 when addr is inside one of the list's networks. */
int cidr_list_contains(const struct cidr_list *l, const struct cidr *addr);

/* Keeps the first prefix bits of c (at most its own prefix), zeroing the
 * rest: 2001:db8:1:2:a:b:c:d/128 to /64 is 2001:db8:1:2::/64. */
void cidr_truncate(struct cidr *c, int prefix);

/* The address as text ("10.1.2.3", "2001:db8::1") into out (cap bytes). */
void cidr_format(const struct cidr *addr, char *out, size_t cap);

#endif
