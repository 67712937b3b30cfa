/* forwarded.h - the client's address behind trusted reverse proxies.
 *
 * Behind a load balancer (Render, Fly, a Kubernetes ingress) every
 * connection comes from a proxy, and the client's address is in the
 * X-Forwarded-For header the proxies append to. Only the proxies listed in
 * CODEINSIGHT_TRUSTED_PROXIES are believed: a client writes what it likes
 * into the header, so it is walked from the right, where the nearest proxy
 * wrote, and each entry is taken only while the one who wrote it (the hop
 * to its right, at first the connection's peer) is trusted.
 *
 *     peer 10.0.0.5 (trusted), "X-Forwarded-For: 6.6.6.6, 203.0.113.9"
 *         -> 203.0.113.9 (6.6.6.6 is what 203.0.113.9 claimed)
 *     peer 10.0.0.5 (trusted), "X-Forwarded-For: 203.0.113.9, 10.0.0.7"
 *         -> 203.0.113.9 when 10.0.0.7 is trusted too
 *     peer 198.51.100.4 (not trusted), any header -> 198.51.100.4
 */
#ifndef GW_FORWARDED_H
#define GW_FORWARDED_H

#include <stddef.h>

#include "common/cidr.h"

/* X-Forwarded-For entries examined at most, from the right. */
#define FORWARDED_HOPS_MAX 16

/* X-Forwarded-For header lines kept (the last ones): a request may carry
 * several, which read as one list joined by commas, in order. */
#define FORWARDED_LINES_MAX 8

/* How the address was found. */
enum forwarded_from {
    FORWARDED_PEER,             /* the peer is not a trusted proxy, or sent no header */
    FORWARDED_HEADER,           /* an entry of X-Forwarded-For */
    FORWARDED_LAST_TRUSTED      /* the header ran out, held something that is not an
                                   address, or more than FORWARDED_HOPS_MAX entries:
                                   the last trusted hop (a proxy) */
};

/* The client's address into out: peer's (its connection's), or from lines
 * (the X-Forwarded-For values in the order received, n of them; NULL when
 * n is 0) as described above. */
enum forwarded_from forwarded_client(const struct cidr_list *trusted, const struct cidr *peer,
                                     const char *const *lines, int n, struct cidr *out);

#endif
