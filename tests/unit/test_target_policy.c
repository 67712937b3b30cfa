/* test_target_policy.c - unit tests for common/target_policy.c: the
 * allow-list's syntax, URL checks and the classification of every refused
 * address range (with listing as the way to allow one). No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/err.h"
#include "common/target_policy.h"

static struct target_policy *policy(const char *list)
{
    struct target_policy *p = NULL;
    struct err e;

    err_clear(&e);
    if (target_policy_new(list, &p, &e) != ERR_OK)
        print_error("list \"%s\": %s\n", list, e.msg);
    assert_non_null(p);
    return p;
}

static void expect_bad_list(const char *list)
{
    struct target_policy *p = (struct target_policy *)1;
    struct err e;

    err_clear(&e);
    if (target_policy_new(list, &p, &e) != ERR_CONFIG)
        print_error("list \"%s\" was accepted\n", list);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_null(p);
    assert_non_null(strstr(e.msg, "CODEINSIGHT_STRESS_ALLOWED_HOSTS"));
}

/* Asserts a check of `what` returned want and, when needle is set, that
 * its message holds needle. */
static void expect_result(const char *what, int rc, const struct err *e, int want,
                          const char *needle)
{
    if (rc != want || (needle != NULL && strstr(e->msg, needle) == NULL))
        print_error("%s: got %s (%s), want %s with \"%s\"\n", what,
                    err_code_str((enum err_code)rc), e->msg, err_code_str((enum err_code)want),
                    needle ? needle : "");
    assert_int_equal(rc, want);
    if (needle != NULL)
        assert_non_null(strstr(e->msg, needle));
}

static void expect_url(const struct target_policy *p, const char *url, int want,
                       const char *needle)
{
    struct err e;
    int rc;

    err_clear(&e);
    rc = target_policy_check_url(p, url, &e);
    expect_result(url, rc, &e, want, needle);
}

/* Checks the address text (IPv4 or IPv6) as a connection would. */
static int check_addr(const struct target_policy *p, const char *text, struct err *e)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;

    err_clear(e);
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, text, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(80);
        return target_policy_check_addr(p, (struct sockaddr *)&a4, sizeof a4, e);
    }
    assert_int_equal(inet_pton(AF_INET6, text, &a6.sin6_addr), 1);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(443);
    return target_policy_check_addr(p, (struct sockaddr *)&a6, sizeof a6, e);
}

static void expect_addr(const struct target_policy *p, const char *text, int want,
                        const char *needle)
{
    struct err e;
    int rc = check_addr(p, text, &e);

    expect_result(text, rc, &e, want, needle);
}

static void test_list_syntax(void **state)
{
    struct target_policy *p;
    char many[64 * 8 + 16] = "";
    char longname[300];
    (void)state;

    p = policy("");
    assert_int_equal(target_policy_enabled(p), 0);
    target_policy_free(p);
    p = policy(" , ,\t,");
    assert_int_equal(target_policy_enabled(p), 0);
    target_policy_free(p);
    assert_int_equal(target_policy_enabled(NULL), 0);
    target_policy_free(NULL);

    p = policy(" api.example.com ,10.0.0.0/8,::1, [2001:db8::1], fd00::/8,203.0.113.7 ,"
               "Example.ORG., [fe80::]/10, 0.0.0.0/0, internal_host-1");
    assert_int_equal(target_policy_enabled(p), 1);
    target_policy_free(p);

    expect_bad_list("api.example.com:8080");
    expect_bad_list("*.example.com");
    expect_bad_list("10.0.0.0/33");
    expect_bad_list("10.0.0.0/");
    expect_bad_list("10.0.0.0/-1");
    expect_bad_list("10.0.0.0/8x");
    expect_bad_list("::1/129");
    expect_bad_list("10.1");            /* libcurl would rewrite the host as 10.0.0.1 */
    expect_bad_list("127.0.0.256");
    expect_bad_list("a..b");
    expect_bad_list(".a");
    expect_bad_list("exa mple.com");
    expect_bad_list("http://example.com");
    expect_bad_list("[example.com]");
    expect_bad_list("ok.example.com, bad/8");

    for (size_t i = 0, at = 0; i < 65; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, "a.b.c,");
    expect_bad_list(many);
    memset(longname, 'a', 254);
    longname[254] = '\0';
    expect_bad_list(longname);
    longname[253] = '\0';
    p = policy(longname);
    target_policy_free(p);
}

static void test_url_checks(void **state)
{
    struct target_policy *p =
        policy("api.example.com, example.org., 127.0.0.1, [::1], 10.1.0.0/16, 2001:db8:1::/48");
    (void)state;

    expect_url(p, "http://api.example.com/x", ERR_OK, NULL);
    expect_url(p, "https://API.Example.COM:8443/x?q=1#f", ERR_OK, NULL);
    expect_url(p, "http://api.example.com./", ERR_OK, NULL);
    expect_url(p, "http://example.org/", ERR_OK, NULL);
    expect_url(p, "http://127.0.0.1:8080/", ERR_OK, NULL);
    expect_url(p, "http://[::1]:8080/x", ERR_OK, NULL);
    expect_url(p, "http://10.1.2.3/", ERR_OK, NULL);
    expect_url(p, "http://[2001:db8:1:ffff::5]/", ERR_OK, NULL);

    expect_url(p, "http://other.example.com/", ERR_TARGET_NOT_ALLOWED, "other.example.com");
    expect_url(p, "http://sub.api.example.com/", ERR_TARGET_NOT_ALLOWED, "sub.api.example.com");
    expect_url(p, "http://127.0.0.2/", ERR_TARGET_NOT_ALLOWED, "loopback");
    expect_url(p, "http://10.2.0.1/", ERR_TARGET_NOT_ALLOWED, "private (10.0.0.0/8)");
    expect_url(p, "http://[::2]/", ERR_TARGET_NOT_ALLOWED, "::2");
    expect_url(p, "http://[2001:db8:2::1]/", ERR_TARGET_NOT_ALLOWED, "2001:db8:2::1");
    expect_url(p, "http://169.254.169.254/latest/meta-data/", ERR_TARGET_NOT_ALLOWED,
               "metadata");
    /* libcurl rewrites numeric hosts into dotted quads before the check. */
    expect_url(p, "http://2130706433/", ERR_OK, NULL);
    expect_url(p, "http://0x7f.1/", ERR_OK, NULL);
    expect_url(p, "http://167772161/", ERR_TARGET_NOT_ALLOWED, "10.0.0.1");

    expect_url(p, "http://user:pw@api.example.com/", ERR_TARGET_NOT_ALLOWED, "credentials");
    expect_url(p, "http://user@api.example.com/", ERR_TARGET_NOT_ALLOWED, "credentials");
    expect_url(p, "ftp://api.example.com/", ERR_TARGET_NOT_ALLOWED, "ftp");
    expect_url(p, "file:///etc/passwd", ERR_TARGET_NOT_ALLOWED, NULL);
    expect_url(p, "gopher://api.example.com/", ERR_TARGET_NOT_ALLOWED, "gopher");
    expect_url(p, "http://[fe80::1%25eth0]/", ERR_TARGET_NOT_ALLOWED, NULL);
    expect_url(p, "/relative/path", ERR_TARGET_NOT_ALLOWED, NULL);
    expect_url(p, "not a url", ERR_TARGET_NOT_ALLOWED, NULL);
    expect_url(p, "", ERR_TARGET_NOT_ALLOWED, NULL);
    target_policy_free(p);

    p = policy("");
    expect_url(p, "http://api.example.com/", ERR_FEATURE_DISABLED,
               "stress tests are off: an operator must set CODEINSIGHT_STRESS_ALLOWED_HOSTS");
    target_policy_free(p);
}

/* A policy without addresses: only the classification decides. */
static void test_refused_ranges(void **state)
{
    static const struct {
        const char *addr;
        const char *why;
    } refused[] = {
        {"0.0.0.0", "unspecified"},
        {"0.1.2.3", "unspecified"},
        {"10.0.0.1", "private (10.0.0.0/8)"},
        {"10.255.255.255", "private"},
        {"100.64.0.1", "CGNAT"},
        {"100.127.255.255", "CGNAT"},
        {"127.0.0.1", "loopback"},
        {"127.255.255.254", "loopback"},
        {"169.254.169.254", "metadata"},
        {"169.254.1.1", "link-local"},
        {"172.16.0.1", "private (172.16.0.0/12)"},
        {"172.31.255.255", "private"},
        {"192.0.0.1", "IETF"},
        {"192.0.2.1", "documentation"},
        {"192.88.99.1", "6to4 relay"},
        {"192.168.1.1", "private (192.168.0.0/16)"},
        {"198.18.0.1", "benchmarking"},
        {"198.19.255.255", "benchmarking"},
        {"198.51.100.1", "documentation"},
        {"203.0.113.1", "documentation"},
        {"224.0.0.1", "multicast"},
        {"239.255.255.250", "multicast"},
        {"240.0.0.1", "reserved (240.0.0.0/4)"},
        {"255.255.255.255", "broadcast"},
        {"::", "unspecified"},
        {"::1", "loopback (::1)"},
        {"::ffff:127.0.0.1", "IPv4-mapped"},
        {"::ffff:10.0.0.1", "private (10.0.0.0/8)"},
        {"::ffff:169.254.169.254", "metadata"},
        {"::ffff:0:10.0.0.1", "IPv4-translated"},
        {"::10.0.0.1", "IPv4-compatible"},
        {"::2", "unspecified (0.0.0.0/8)"},
        {"64:ff9b::10.0.0.1", "NAT64"},
        {"64:ff9b::127.0.0.1", "loopback"},
        {"64:ff9b:1::1", "local-use NAT64"},
        {"100::1", "discard"},
        {"2001::1", "Teredo"},
        {"2001:1ff::1", "IETF"},
        {"2001:db8::1", "documentation"},
        {"2002:0a00:0001::1", "6to4"},
        {"2002:7f00:0001::", "loopback"},
        {"2002:a9fe:a9fe::1", "metadata"},
        {"3fff::1", "documentation"},
        {"fc00::1", "unique local"},
        {"fd12:3456::1", "private"},
        {"fe80::1", "link-local"},
        {"febf::1", "link-local"},
        {"fec0::1", "site-local"},
        {"ff02::1", "multicast"},
        {"4000::1", "outside the global unicast range"},
    };
    static const char *const allowed[] = {
        "8.8.8.8", "1.1.1.1", "11.0.0.1", "100.63.255.255", "100.128.0.1", "172.15.255.255",
        "172.32.0.1", "192.169.0.1", "198.20.0.1", "223.255.255.255", "2606:4700::1111",
        "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:0808:0808::1",
        "::8.8.8.8",                /* IPv4-compatible, public inside */
    };
    struct target_policy *p = policy("only-a-name.example");
    (void)state;

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        expect_addr(p, refused[i].addr, ERR_TARGET_NOT_ALLOWED, refused[i].why);
        expect_addr(p, refused[i].addr, ERR_TARGET_NOT_ALLOWED,
                    "not listed in CODEINSIGHT_STRESS_ALLOWED_HOSTS");
    }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        expect_addr(p, allowed[i], ERR_OK, NULL);
    target_policy_free(p);
}

static void test_listed_addresses_allowed(void **state)
{
    struct target_policy *p = policy("example.com, 10.0.0.0/8, 127.0.0.1, fd00::/8, "
                                     "169.254.169.254, ::1, 100.64.0.0/10, 2001:db8::/32");
    (void)state;

    expect_addr(p, "10.1.2.3", ERR_OK, NULL);
    expect_addr(p, "127.0.0.1", ERR_OK, NULL);
    expect_addr(p, "127.0.0.2", ERR_TARGET_NOT_ALLOWED, "loopback");
    expect_addr(p, "169.254.169.254", ERR_OK, NULL);
    expect_addr(p, "169.254.169.253", ERR_TARGET_NOT_ALLOWED, "link-local");
    expect_addr(p, "100.100.0.1", ERR_OK, NULL);
    expect_addr(p, "172.16.0.1", ERR_TARGET_NOT_ALLOWED, "private");
    expect_addr(p, "fd00::1", ERR_OK, NULL);
    expect_addr(p, "fc00::1", ERR_TARGET_NOT_ALLOWED, "unique local");
    expect_addr(p, "::1", ERR_OK, NULL);
    expect_addr(p, "2001:db8::5", ERR_OK, NULL);
    /* The embedded IPv4 address counts as listed too. */
    expect_addr(p, "::ffff:10.0.0.5", ERR_OK, NULL);
    expect_addr(p, "64:ff9b::127.0.0.1", ERR_OK, NULL);
    expect_addr(p, "2002:0a00:0001::1", ERR_OK, NULL);
    expect_addr(p, "::ffff:192.168.0.1", ERR_TARGET_NOT_ALLOWED, "192.168.0.1");
    target_policy_free(p);

    /* A CIDR of every IPv4 address allows every IPv4 address. */
    p = policy("0.0.0.0/0");
    expect_addr(p, "127.0.0.1", ERR_OK, NULL);
    expect_addr(p, "::1", ERR_TARGET_NOT_ALLOWED, "loopback");
    target_policy_free(p);
}

static void test_addr_edge_cases(void **state)
{
    struct target_policy *p = policy("example.com");
    struct sockaddr_un un;
    struct sockaddr_in a4;
    struct err e;
    (void)state;

    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    assert_int_equal(target_policy_check_addr(p, (struct sockaddr *)&un, sizeof un, &e),
                     ERR_TARGET_NOT_ALLOWED);
    memset(&a4, 0, sizeof a4);
    a4.sin_family = AF_INET;
    assert_int_equal(target_policy_check_addr(p, (struct sockaddr *)&a4, sizeof a4 - 1, &e),
                     ERR_TARGET_NOT_ALLOWED);
    assert_int_equal(target_policy_check_addr(p, NULL, 0, &e), ERR_TARGET_NOT_ALLOWED);
    /* A NULL err is allowed. */
    assert_int_equal(target_policy_check_url(p, "http://x.example.com/", NULL),
                     ERR_TARGET_NOT_ALLOWED);
    target_policy_free(p);

    p = policy("");
    assert_int_equal(check_addr(p, "8.8.8.8", &e), ERR_FEATURE_DISABLED);
    assert_int_equal(e.http_status, 403);
    target_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_syntax),
        cmocka_unit_test(test_url_checks),
        cmocka_unit_test(test_refused_ranges),
        cmocka_unit_test(test_listed_addresses_allowed),
        cmocka_unit_test(test_addr_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
