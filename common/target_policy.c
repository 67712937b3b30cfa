/* target_policy.c - the stress-test allow-list and address classification. */
#include "common/target_policy.h"

#include "common/cidr.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/items.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define POLICY_VAR "CODEINSIGHT_STRESS_ALLOWED_HOSTS"

/* Longest entry text, bytes: a host name, or "[IPv6]/128". */
#define ENTRY_TEXT_MAX (TARGET_POLICY_HOST_MAX + 1)

enum entry_kind { ENTRY_HOST, ENTRY_NET };

struct entry {
    enum entry_kind kind;
    struct cidr net;                        /* ENTRY_NET: an IP or a CIDR */
    char host[TARGET_POLICY_HOST_MAX + 1];  /* ENTRY_HOST: lower case, no trailing dot */
};

struct target_policy {
    int n;
    struct entry entries[TARGET_POLICY_ENTRIES_MAX];
};

/* ---- address ranges ---- */

/* What a range means for a connection. */
enum range_rule {
    RANGE_REFUSE,
    RANGE_EMBED_12,     /* the last 4 bytes are an IPv4 address: judge that */
    RANGE_EMBED_2,      /* bytes 2..5 are an IPv4 address (6to4) */
};

struct range {
    const char *net;    /* inet_pton text */
    int prefix;
    const char *what;   /* "private (10.0.0.0/8)" */
    enum range_rule rule;
};

/* First match wins: narrower ranges before the ranges holding them. */
static const struct range ranges4[] = {
    {"0.0.0.0", 8, "unspecified (0.0.0.0/8)", RANGE_REFUSE},
    {"10.0.0.0", 8, "private (10.0.0.0/8)", RANGE_REFUSE},
    {"100.64.0.0", 10, "shared CGNAT space (100.64.0.0/10)", RANGE_REFUSE},
    {"127.0.0.0", 8, "loopback (127.0.0.0/8)", RANGE_REFUSE},
    {"169.254.169.254", 32, "the cloud metadata address (link-local 169.254.0.0/16)",
     RANGE_REFUSE},
    {"169.254.0.0", 16, "link-local (169.254.0.0/16)", RANGE_REFUSE},
    {"172.16.0.0", 12, "private (172.16.0.0/12)", RANGE_REFUSE},
    {"192.0.0.0", 24, "reserved for IETF protocols (192.0.0.0/24)", RANGE_REFUSE},
    {"192.0.2.0", 24, "reserved for documentation (192.0.2.0/24)", RANGE_REFUSE},
    {"192.88.99.0", 24, "the 6to4 relay anycast range (192.88.99.0/24)", RANGE_REFUSE},
    {"192.168.0.0", 16, "private (192.168.0.0/16)", RANGE_REFUSE},
    {"198.18.0.0", 15, "reserved for benchmarking (198.18.0.0/15)", RANGE_REFUSE},
    {"198.51.100.0", 24, "reserved for documentation (198.51.100.0/24)", RANGE_REFUSE},
    {"203.0.113.0", 24, "reserved for documentation (203.0.113.0/24)", RANGE_REFUSE},
    {"224.0.0.0", 4, "multicast (224.0.0.0/4)", RANGE_REFUSE},
    {"255.255.255.255", 32, "the broadcast address", RANGE_REFUSE},
    {"240.0.0.0", 4, "reserved (240.0.0.0/4)", RANGE_REFUSE},
};

static const struct range ranges6[] = {
    {"::", 128, "unspecified (::)", RANGE_REFUSE},
    {"::1", 128, "loopback (::1)", RANGE_REFUSE},
    {"::ffff:0:0", 96, "IPv4-mapped (::ffff:0:0/96)", RANGE_EMBED_12},
    {"::ffff:0:0:0", 96, "IPv4-translated (::ffff:0:0:0/96)", RANGE_EMBED_12},
    {"::", 96, "IPv4-compatible (::/96)", RANGE_EMBED_12},
    {"64:ff9b::", 96, "NAT64 (64:ff9b::/96)", RANGE_EMBED_12},
    {"64:ff9b:1::", 48, "local-use NAT64 (64:ff9b:1::/48)", RANGE_REFUSE},
    {"100::", 64, "discard-only (100::/64)", RANGE_REFUSE},
    {"2001::", 32, "a Teredo tunnel (2001::/32)", RANGE_REFUSE},
    {"2001::", 23, "reserved for IETF protocols (2001::/23)", RANGE_REFUSE},
    {"2001:db8::", 32, "reserved for documentation (2001:db8::/32)", RANGE_REFUSE},
    {"2002::", 16, "6to4 (2002::/16)", RANGE_EMBED_2},
    {"3fff::", 20, "reserved for documentation (3fff::/20)", RANGE_REFUSE},
    {"fc00::", 7, "private, unique local (fc00::/7)", RANGE_REFUSE},
    {"fe80::", 10, "link-local (fe80::/10)", RANGE_REFUSE},
    {"fec0::", 10, "site-local (fec0::/10)", RANGE_REFUSE},
    {"ff00::", 8, "multicast (ff00::/8)", RANGE_REFUSE},
};

/* The range holding a (4 or 16 bytes), or NULL when it is none of them. */
static const struct range *range_of(const unsigned char *a, int family)
{
    const struct range *t = family == AF_INET ? ranges4 : ranges6;
    size_t n = family == AF_INET ? sizeof ranges4 / sizeof ranges4[0]
                                 : sizeof ranges6 / sizeof ranges6[0];
    static const struct range outside6 = {
        "2000::", 3, "reserved (outside the global unicast range 2000::/3)", RANGE_REFUSE};
    unsigned char net[16];

    for (size_t i = 0; i < n; i++)
        if (inet_pton(family, t[i].net, net) == 1 && cidr_prefix_match(a, net, t[i].prefix))
            return &t[i];
    if (family == AF_INET6 && (inet_pton(AF_INET6, outside6.net, net) != 1 ||
                               !cidr_prefix_match(a, net, outside6.prefix)))
        return &outside6;
    return NULL;
}

/* 1 when a (4 or 16 bytes) is listed as an IP or inside a listed CIDR. */
static int listed_addr(const struct target_policy *p, const unsigned char *a, int family)
{
    for (int i = 0; i < p->n; i++) {
        const struct entry *x = &p->entries[i];

        if (x->kind == ENTRY_NET && x->net.family == family &&
            cidr_prefix_match(a, x->net.addr, x->net.prefix))
            return 1;
    }
    return 0;
}

/* Judges an address: NULL when allowed, else why it is refused. For a tunnel
 * form, *inner gets the embedded IPv4 address judged instead. */
static const struct range *addr_refusal(const struct target_policy *p, const unsigned char *a,
                                        int family, unsigned char inner[4],
                                        const struct range **via)
{
    const struct range *r;

    *via = NULL;
    if (listed_addr(p, a, family))
        return NULL;
    r = range_of(a, family);
    if (r == NULL || r->rule == RANGE_REFUSE)
        return r;
    memcpy(inner, a + (r->rule == RANGE_EMBED_12 ? 12 : 2), 4);
    *via = r;
    if (listed_addr(p, inner, AF_INET))
        return NULL;
    return range_of(inner, AF_INET);
}

int target_policy_check_addr(const struct target_policy *p, const struct sockaddr *sa,
                             size_t len, struct err *e)
{
    char text[INET6_ADDRSTRLEN], inner_text[INET_ADDRSTRLEN];
    const unsigned char *a;
    const struct range *r, *via;
    unsigned char inner[4];
    int family;

    if (!target_policy_enabled(p))
        return err_set(e, ERR_FEATURE_DISABLED,
                       "stress tests are off: an operator must set " POLICY_VAR);
    if (sa == NULL)
        return err_set(e, ERR_TARGET_NOT_ALLOWED, "no address");
    family = sa->sa_family;
    if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        a = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    } else {
        return err_set(e, ERR_TARGET_NOT_ALLOWED,
                       "only IPv4 and IPv6 addresses may be connected to");
    }
    r = addr_refusal(p, a, family, inner, &via);
    if (r == NULL)
        return ERR_OK;
    if (inet_ntop(family, a, text, sizeof text) == NULL)
        snprintf(text, sizeof text, "?");
    if (via == NULL)
        return err_set(e, ERR_TARGET_NOT_ALLOWED, "address %s is %s and not listed in " POLICY_VAR,
                       text, r->what);
    inet_ntop(AF_INET, inner, inner_text, sizeof inner_text);
    return err_set(e, ERR_TARGET_NOT_ALLOWED,
                   "address %s, %s, embeds %s, which is %s and not listed in " POLICY_VAR, text,
                   via->what, inner_text, r->what);
}

/* ---- URLs ---- */

int target_policy_check_url(const struct target_policy *p, const char *url, struct err *e)
{
    struct http_url u;
    struct err pe;
    unsigned char a[16];
    size_t n;

    if (!target_policy_enabled(p))
        return err_set(e, ERR_FEATURE_DISABLED,
                       "stress tests are off: an operator must set " POLICY_VAR);
    if (http_url_parse(url, &u, &pe) != ERR_OK)
        return err_set(e, pe.code == ERR_INTERNAL ? ERR_INTERNAL : ERR_TARGET_NOT_ALLOWED,
                       "the URL cannot be used: %s", pe.msg);
    if (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0)
        return err_set(e, ERR_TARGET_NOT_ALLOWED, "scheme %.16s is not allowed: http or https only",
                       u.scheme);
    if (u.has_userinfo)
        return err_set(e, ERR_TARGET_NOT_ALLOWED, "URLs with credentials are not allowed");
    if (u.has_zone)
        return err_set(e, ERR_TARGET_NOT_ALLOWED, "IPv6 zone ids are not allowed");
    if (inet_pton(AF_INET, u.host, a) == 1 || inet_pton(AF_INET6, u.host, a) == 1) {
        int family = strchr(u.host, ':') != NULL ? AF_INET6 : AF_INET;
        const struct range *r;

        if (listed_addr(p, a, family))
            return ERR_OK;
        r = range_of(a, family);
        return err_set(e, ERR_TARGET_NOT_ALLOWED, "host %s is not listed in " POLICY_VAR "%s%s",
                       u.host, r ? "; it is " : "", r ? r->what : "");
    }
    for (char *c = u.host; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    n = strlen(u.host);
    if (n > 1 && u.host[n - 1] == '.')
        u.host[--n] = '\0';
    for (int i = 0; i < p->n; i++)
        if (p->entries[i].kind == ENTRY_HOST && strcmp(p->entries[i].host, u.host) == 0)
            return ERR_OK;
    return err_set(e, ERR_TARGET_NOT_ALLOWED, "host %.120s is not listed in " POLICY_VAR, u.host);
}

/* ---- the list ---- */

/* Checks and lower-cases a host name entry into x; returns 0 or -1. */
static int parse_host(const char *text, struct entry *x)
{
    size_t n = strlen(text);
    const char *last;
    int digits_only = 1;

    if (n > 1 && text[n - 1] == '.')
        n--;
    if (n == 0 || n > TARGET_POLICY_HOST_MAX || text[0] == '.')
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];

        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return -1;
        if (c == '.' && text[i + 1] == '.')
            return -1;
        x->host[i] = (char)tolower(c);
    }
    x->host[n] = '\0';
    /* "10.1" or "127.1": a name's last label is never numeric, and libcurl
     * rewrites such hosts into dotted quads, so this could never match. */
    last = strrchr(x->host, '.');
    for (const char *c = last ? last + 1 : x->host; *c != '\0'; c++)
        if (!isdigit((unsigned char)*c))
            digits_only = 0;
    if (digits_only)
        return -1;
    x->kind = ENTRY_HOST;
    return 0;
}

int target_policy_new(const char *list, struct target_policy **out, struct err *e)
{
    struct target_policy *p = calloc(1, sizeof *p);
    const char *s = list, *item;
    size_t n;

    *out = NULL;
    if (p == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    while (items_next(&s, &item, &n)) {
        char text[ENTRY_TEXT_MAX + 1];
        struct entry *x = &p->entries[p->n];
        int rc;

        if (n > ENTRY_TEXT_MAX) {
            free(p);
            return err_set(e, ERR_CONFIG, POLICY_VAR ": an entry is over %d bytes",
                           ENTRY_TEXT_MAX);
        }
        if (p->n == TARGET_POLICY_ENTRIES_MAX) {
            free(p);
            return err_set(e, ERR_CONFIG, POLICY_VAR ": more than %d entries",
                           TARGET_POLICY_ENTRIES_MAX);
        }
        memcpy(text, item, n);
        text[n] = '\0';
        rc = cidr_parse(text, n, &x->net);
        x->kind = ENTRY_NET;
        if (rc == 0 && strchr(text, ':') == NULL)
            rc = parse_host(text, x) == 0 ? 1 : -1;
        if (rc != 1) {
            free(p);
            return err_set(e, ERR_CONFIG,
                           POLICY_VAR ": \"%.80s\" is not a host name, an IP address or "
                           "a CIDR (no ports or wildcards)", text);
        }
        p->n++;
    }
    *out = p;
    return ERR_OK;
}

void target_policy_free(struct target_policy *p)
{
    free(p);
}

int target_policy_enabled(const struct target_policy *p)
{
    return p != NULL && p->n > 0;
}
