/* target_policy.h - which hosts and addresses a stress test may reach.
 *
 * The operator's allow-list (CODEINSIGHT_STRESS_ALLOWED_HOSTS), checked by
 * the gateway when a test is submitted and by the worker before and while it
 * runs. A URL's host must be listed; the address actually connected to must
 * be public, or listed as an IP or inside a listed CIDR. An empty list turns
 * the feature off.
 *
 *     struct target_policy *p;
 *     if (target_policy_new(cfg->stress_allowed_hosts, &p, &e) != ERR_OK) exit(1);
 *     rc = target_policy_check_url(p, url, &e);   // ERR_OK, ERR_FEATURE_DISABLED,
 *                                                  // ERR_TARGET_NOT_ALLOWED
 *
 * A policy is read-only once built: any number of threads may check against it.
 */
#ifndef CI_TARGET_POLICY_H
#define CI_TARGET_POLICY_H

#include <stddef.h>

struct err;
struct sockaddr;
struct target_policy;

/* Most entries in one list. */
#define TARGET_POLICY_ENTRIES_MAX 64

/* Longest host name entry, bytes (RFC 1035). */
#define TARGET_POLICY_HOST_MAX 253

/* Parses a comma-separated list of entries, each (spaces around ignored):
 *   a host name   "api.example.com"    matches that URL host, any case; a
 *                                      trailing dot is ignored
 *   an IPv4/IPv6  "203.0.113.7", "::1", "[2001:db8::1]"
 *   a CIDR        "10.1.0.0/16", "fd00::/8"
 * An IP or CIDR entry matches URL hosts that are IP literals inside it, and
 * allows connecting to those addresses even when private. "" (or only commas
 * and spaces) is a valid, empty policy: everything is refused.
 * Returns ERR_OK with *out (owns; target_policy_free), or ERR_CONFIG naming
 * the bad entry (host names hold letters, digits, '-', '_' and '.'; no ports,
 * no wildcards). */
int target_policy_new(const char *list, struct target_policy **out, struct err *e);

/* Accepts NULL. */
void target_policy_free(struct target_policy *p);

/* 1 when the list has at least one entry (stress tests are on), else 0. */
int target_policy_enabled(const struct target_policy *p);

/* Checks a URL a stress test would request (or a redirect it was given):
 * the scheme is http or https, there are no credentials or IPv6 zone, and the
 * host is listed. Returns ERR_OK; ERR_FEATURE_DISABLED when the list is
 * empty; ERR_TARGET_NOT_ALLOWED otherwise, with a message naming the host
 * (never the path or query). Does not resolve names: the address is checked
 * when connecting (target_policy_check_addr). */
int target_policy_check_url(const struct target_policy *p, const char *url, struct err *e);

/* Checks the address (sockaddr_in or sockaddr_in6, len bytes) a connection
 * is about to be made to. Allowed when listed as an IP or inside a listed
 * CIDR, or when public. Refused otherwise when it is unspecified (0/8, ::),
 * loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7),
 * shared CGNAT space (100.64/10), link-local (169.254/16 with the cloud
 * metadata address, fe80::/10), multicast, broadcast, reserved (240/4, IETF
 * and documentation ranges, IPv6 outside 2000::/3) or a tunnel form whose
 * embedded IPv4 is refused (IPv4-mapped, -compatible and -translated, NAT64
 * 64:ff9b::/96, 6to4 2002::/16; Teredo is refused). Returns ERR_OK,
 * ERR_FEATURE_DISABLED (empty list) or ERR_TARGET_NOT_ALLOWED with a message
 * naming the address and its range. */
int target_policy_check_addr(const struct target_policy *p, const struct sockaddr *sa,
                             size_t len, struct err *e);

#endif
