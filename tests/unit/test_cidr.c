/* test_cidr.c - unit tests for common/cidr.c and common/items.c: addresses
 * and networks as settings and proxies write them, and the client's address
 * behind trusted proxies (gateway/forwarded.c).
 *
 * Texts are copied into heap buffers of exactly their length (no NUL), so
 * ASan catches a read past n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/cidr.h"
#include "common/err.h"
#include "common/items.h"
#include "gateway/forwarded.h"

/* cidr_parse (host: cidr_parse_host) of lit from a buffer without a NUL;
 * out gets the result's text form and prefix, "-" when refused. */
static int parse_n(const char *lit, int host, char *out, size_t cap, int *prefix)
{
    size_t n = strlen(lit);
    char *copy = malloc(n ? n : 1);
    struct cidr c;
    int rc;

    assert_non_null(copy);
    memcpy(copy, lit, n);
    rc = host ? cidr_parse_host(copy, n, &c) : cidr_parse(copy, n, &c);
    free(copy);
    if (rc == 1) {
        cidr_format(&c, out, cap);
        *prefix = c.prefix;
    } else {
        snprintf(out, cap, "-");
        *prefix = -1;
    }
    return rc;
}

#define NET(lit, text, bits)                                                    \
    do {                                                                        \
        char got_[CIDR_TEXT_MAX];                                               \
        int prefix_;                                                            \
        assert_int_equal(parse_n(lit, 0, got_, sizeof got_, &prefix_), 1);      \
        assert_string_equal(got_, text);                                        \
        assert_int_equal(prefix_, bits);                                        \
    } while (0)

#define NOT_NET(lit, rc)                                                        \
    do {                                                                        \
        char got_[CIDR_TEXT_MAX];                                               \
        int prefix_;                                                            \
        assert_int_equal(parse_n(lit, 0, got_, sizeof got_, &prefix_), rc);     \
    } while (0)

#define HOST(lit, text)                                                         \
    do {                                                                        \
        char got_[CIDR_TEXT_MAX];                                               \
        int prefix_;                                                            \
        assert_int_equal(parse_n(lit, 1, got_, sizeof got_, &prefix_), 1);      \
        assert_string_equal(got_, text);                                        \
    } while (0)

#define NOT_HOST(lit)                                                           \
    do {                                                                        \
        char got_[CIDR_TEXT_MAX];                                               \
        int prefix_;                                                            \
        assert_int_equal(parse_n(lit, 1, got_, sizeof got_, &prefix_), 0);      \
    } while (0)

static void test_networks(void **state)
{
    (void)state;
    NET("10.0.0.0/8", "10.0.0.0", 8);
    NET("10.1.2.3", "10.1.2.3", 32);
    NET("0.0.0.0/0", "0.0.0.0", 0);
    NET("fd00::/8", "fd00::", 8);
    NET("[2001:db8::1]", "2001:db8::1", 128);
    NET("[2001:db8::]/32", "2001:db8::", 32);
    NET("::ffff:10.0.0.0/104", "::ffff:10.0.0.0", 104);    /* kept as written */
    NOT_NET("10.0.0.0/33", -1);
    NOT_NET("fd00::/129", -1);
    NOT_NET("10.0.0.0/", -1);
    NOT_NET("10.0.0.0/8x", -1);
    NOT_NET("10.0.0.0/-8", -1);
    NET("10.0.0.0/0008", "10.0.0.0", 8);      /* leading zeros, as before cidr.c */
    NOT_NET("10.0.0.0/00000000000000000000033", -1);
    NOT_NET("not-an-address/8", -1);
    NOT_NET("[10.0.0.1]", 0);           /* brackets are for IPv6 */
    NOT_NET("example.com", 0);
    NOT_NET("10.0.0", 0);
    NOT_NET("fe80::1%eth0", 0);
    NOT_NET("", 0);
}

static void test_hosts(void **state)
{
    (void)state;
    HOST("203.0.113.9", "203.0.113.9");
    HOST("203.0.113.9:4711", "203.0.113.9");
    HOST("2001:db8::7", "2001:db8::7");
    HOST("[2001:db8::7]", "2001:db8::7");
    HOST("[2001:db8::7]:443", "2001:db8::7");
    HOST("::ffff:203.0.113.9", "203.0.113.9");     /* mapped: read as IPv4 */
    HOST("[::ffff:203.0.113.9]:80", "203.0.113.9");
    NOT_HOST("unknown");
    NOT_HOST("_hidden");                /* RFC 7239 obfuscated identifiers */
    NOT_HOST("203.0.113.9/32");
    NOT_HOST("203.0.113.9:");
    NOT_HOST("203.0.113.9:http");
    NOT_HOST("203.0.113.9:123456");
    NOT_HOST("203.0.113.9:65536");
    HOST("203.0.113.9:65535", "203.0.113.9");
    NOT_HOST("[2001:db8::7");
    NOT_HOST("[2001:db8::7]x");
    NOT_HOST("[2001:db8::7]:");
    NOT_HOST("[2001:db8::7]:99999");
    NOT_HOST("[203.0.113.9]");
    NOT_HOST("203.0.113.9 ");           /* callers trim */
    NOT_HOST("");
}

static struct cidr host(const char *text)
{
    struct cidr c;

    assert_int_equal(cidr_parse_host(text, strlen(text), &c), 1);
    return c;
}

static void test_contains(void **state)
{
    struct cidr net, a;

    (void)state;
    assert_int_equal(cidr_parse("10.1.0.0/16", 11, &net), 1);
    a = host("10.1.255.7");
    assert_true(cidr_contains(&net, &a));
    a = host("10.2.0.1");
    assert_false(cidr_contains(&net, &a));
    assert_int_equal(cidr_parse("192.168.0.0/23", 14, &net), 1);  /* a prefix mid-byte */
    a = host("192.168.1.200");
    assert_true(cidr_contains(&net, &a));
    a = host("192.168.2.0");
    assert_false(cidr_contains(&net, &a));
    assert_int_equal(cidr_parse("fd00::/8", 8, &net), 1);
    a = host("fdab::1");
    assert_true(cidr_contains(&net, &a));
    a = host("10.1.0.1");               /* another family never matches */
    assert_false(cidr_contains(&net, &a));
    assert_int_equal(cidr_parse("0.0.0.0/0", 9, &net), 1);
    a = host("198.51.100.1");
    assert_true(cidr_contains(&net, &a));
}

static void test_truncate(void **state)
{
    struct cidr c = host("2001:db8:1:2:a:b:c:d");
    char text[CIDR_TEXT_MAX];

    (void)state;
    cidr_truncate(&c, 64);
    cidr_format(&c, text, sizeof text);
    assert_string_equal(text, "2001:db8:1:2::");
    assert_int_equal(c.prefix, 64);
    cidr_truncate(&c, 100);             /* never longer than it is */
    assert_int_equal(c.prefix, 64);
    cidr_truncate(&c, 28);              /* mid-byte: 2001:0db8 keeps 0db */
    cidr_format(&c, text, sizeof text);
    assert_string_equal(text, "2001:db0::");
    c = host("203.0.113.77");
    cidr_truncate(&c, 24);
    cidr_format(&c, text, sizeof text);
    assert_string_equal(text, "203.0.113.0");
    cidr_truncate(&c, -3);
    cidr_format(&c, text, sizeof text);
    assert_string_equal(text, "0.0.0.0");
}

static void test_sockaddr(void **state)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr other;
    struct cidr c;
    char text[CIDR_TEXT_MAX];

    (void)state;
    memset(&v4, 0, sizeof v4);
    v4.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, "127.0.0.2", &v4.sin_addr), 1);
    assert_int_equal(cidr_from_sockaddr((struct sockaddr *)&v4, &c), 1);
    cidr_format(&c, text, sizeof text);
    assert_string_equal(text, "127.0.0.2");
    assert_int_equal(c.prefix, 32);
    memset(&v6, 0, sizeof v6);
    v6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.5", &v6.sin6_addr), 1);
    assert_int_equal(cidr_from_sockaddr((struct sockaddr *)&v6, &c), 1);
    assert_int_equal(c.family, AF_INET);
    cidr_format(&c, text, sizeof text);
    assert_string_equal(text, "10.0.0.5");
    memset(&other, 0, sizeof other);
    other.sa_family = AF_UNIX;
    assert_int_equal(cidr_from_sockaddr(&other, &c), 0);
    assert_int_equal(cidr_from_sockaddr(NULL, &c), 0);
}

static void test_items(void **state)
{
    const char *s = " a, ,b c ,\t,,d", *item;
    const char *want[] = {"a", "b c", "d"};
    size_t n;
    int i = 0;

    (void)state;
    while (items_next(&s, &item, &n)) {
        assert_true(i < 3);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(item, want[i], n);
        i++;
    }
    assert_int_equal(i, 3);
    s = NULL;
    assert_int_equal(items_next(&s, &item, &n), 0);
    s = " , ";
    assert_int_equal(items_next(&s, &item, &n), 0);
}

static void test_list(void **state)
{
    struct cidr_list *l = malloc(sizeof *l);
    struct err e;
    struct cidr a;
    char many[CIDR_LIST_MAX * 12 + 16];
    size_t off = 0;

    (void)state;
    assert_non_null(l);
    assert_int_equal(cidr_list_parse(" 10.0.0.0/8 , fd00::/8,::ffff:172.16.0.0/108", "V", l, &e),
                     ERR_OK);
    assert_int_equal(l->n, 3);
    a = host("172.16.3.4");             /* a mapped network is read as IPv4 */
    assert_true(cidr_list_contains(l, &a));
    a = host("10.200.0.1");
    assert_true(cidr_list_contains(l, &a));
    a = host("192.0.2.1");
    assert_false(cidr_list_contains(l, &a));
    assert_int_equal(cidr_list_parse("", "V", l, &e), ERR_OK);
    assert_int_equal(l->n, 0);
    assert_false(cidr_list_contains(l, &a));
    assert_int_equal(cidr_list_parse("10.0.0.0/8, proxy.internal", "MY_VAR", l, &e), ERR_CONFIG);
    assert_non_null(strstr(e.msg, "MY_VAR"));
    assert_non_null(strstr(e.msg, "proxy.internal"));
    assert_int_equal(cidr_list_parse("10.0.0.0/40", "V", l, &e), ERR_CONFIG);
    for (int i = 0; i <= CIDR_LIST_MAX; i++)
        off += (size_t)snprintf(many + off, sizeof many - off, "10.0.%d.%d,", i / 256, i % 256);
    assert_int_equal(cidr_list_parse(many, "V", l, &e), ERR_CONFIG);
    assert_non_null(strstr(e.msg, "more than"));
    free(l);
}

/* ---- forwarded_client ---- */

/* The client forwarded_client finds for peer and lines, as text. */
static enum forwarded_from client(const char *trusted, const char *peer, const char *const *lines,
                                  int n, char *out, size_t cap)
{
    struct cidr_list l;
    struct cidr p, c;
    struct err e;
    enum forwarded_from from;

    assert_int_equal(cidr_list_parse(trusted, "T", &l, &e), ERR_OK);
    p = host(peer);
    from = forwarded_client(&l, &p, lines, n, &c);
    cidr_format(&c, out, cap);
    return from;
}

#define CLIENT(trusted, peer, lines, want_from, want)                                     \
    do {                                                                                  \
        char got_[CIDR_TEXT_MAX];                                                         \
        assert_int_equal(client(trusted, peer, lines, (int)(sizeof lines / sizeof *lines), \
                                got_, sizeof got_), want_from);                           \
        assert_string_equal(got_, want);                                                  \
    } while (0)

static void test_forwarded_walk(void **state)
{
    const char *one[] = {"203.0.113.9"};
    const char *spoofed[] = {"6.6.6.6, 203.0.113.9"};
    const char *chain[] = {"6.6.6.6,203.0.113.9 , 10.0.0.7"};
    const char *lines[] = {"6.6.6.6", "203.0.113.9", "10.0.0.7"};
    const char *ported[] = {"[2001:db8::5]:51000, 10.0.0.7:80"};
    const char *inner[] = {"10.0.0.8, 10.0.0.7"};
    const char *garbage[] = {"203.0.113.9, unknown, 10.0.0.7"};
    const char *empty[] = {" , "};
    const char *blank_last[] = {"203.0.113.9,", ""};

    (void)state;
    /* No trusted proxy: the header is never read. */
    CLIENT("", "10.0.0.5", one, FORWARDED_PEER, "10.0.0.5");
    /* The peer is not trusted: its header is not believed. */
    CLIENT("10.0.0.0/8", "198.51.100.4", one, FORWARDED_PEER, "198.51.100.4");
    CLIENT("10.0.0.0/8", "10.0.0.5", one, FORWARDED_HEADER, "203.0.113.9");
    /* What the client itself wrote is left of the first untrusted hop. */
    CLIENT("10.0.0.0/8", "10.0.0.5", spoofed, FORWARDED_HEADER, "203.0.113.9");
    CLIENT("10.0.0.0/8", "10.0.0.5", chain, FORWARDED_HEADER, "203.0.113.9");
    /* Several lines read as one list, in order. */
    CLIENT("10.0.0.0/8", "10.0.0.5", lines, FORWARDED_HEADER, "203.0.113.9");
    CLIENT("10.0.0.0/8", "10.0.0.5", ported, FORWARDED_HEADER, "2001:db8::5");
    /* Every hop trusted: the leftmost, a proxy. */
    CLIENT("10.0.0.0/8", "10.0.0.5", inner, FORWARDED_LAST_TRUSTED, "10.0.0.8");
    /* Something that is not an address ends the walk at the last proxy. */
    CLIENT("10.0.0.0/8", "10.0.0.5", garbage, FORWARDED_LAST_TRUSTED, "10.0.0.7");
    CLIENT("10.0.0.0/8", "10.0.0.5", empty, FORWARDED_LAST_TRUSTED, "10.0.0.5");
    CLIENT("10.0.0.0/8", "10.0.0.5", blank_last, FORWARDED_HEADER, "203.0.113.9");
}

/* A header longer than FORWARDED_HOPS_MAX trusted hops stops at the last
 * one examined, and never reads left of it. */
static void test_forwarded_hop_limit(void **state)
{
    char line[FORWARDED_HOPS_MAX * 16 + 64], got[CIDR_TEXT_MAX];
    const char *lines[] = {line};
    size_t off = 0;

    (void)state;
    off += (size_t)snprintf(line, sizeof line, "203.0.113.9");
    for (int i = 0; i < FORWARDED_HOPS_MAX; i++)
        off += (size_t)snprintf(line + off, sizeof line - off, ", 10.0.1.%d", i + 1);
    assert_int_equal(client("10.0.0.0/8", "10.0.0.5", lines, 1, got, sizeof got),
                     FORWARDED_LAST_TRUSTED);
    assert_string_equal(got, "10.0.1.1");
    /* One hop fewer and the client is reached. */
    line[strlen(line) - strlen(", 10.0.1.16")] = '\0';
    assert_int_equal(client("10.0.0.0/8", "10.0.0.5", lines, 1, got, sizeof got),
                     FORWARDED_HEADER);
    assert_string_equal(got, "203.0.113.9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_networks),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_forwarded_walk),
        cmocka_unit_test(test_forwarded_hop_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
