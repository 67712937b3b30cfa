/* test_crypto.c - unit tests for common/crypto.c, linked against it alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/crypto.h"

#define MANY_IDS 100000

/* Epoch microseconds 2024-01-02T03:04:05.678901Z. */
#define SOME_US INT64_C(1704164645678901)

static int setup(void **state)
{
    (void)state;
    return crypto_init() == 0 ? 0 : -1;
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Asserts the exact textual shape of a UUIDv7 from crypto_uuid7(). */
static void assert_uuid7_shape(const char *u)
{
    assert_int_equal(strlen(u), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_true(is_lower_hex(u[i]));
    }
    assert_int_equal(u[14], '7');
    assert_non_null(strchr("89ab", u[19]));
}

static void test_uuid7_format(void **state)
{
    char u[CRYPTO_UUID_LEN];
    (void)state;

    assert_ptr_equal(crypto_uuid7(SOME_US, u), u);
    assert_uuid7_shape(u);
    assert_int_equal(crypto_uuid_valid(u), 1);
    /* 48-bit millisecond timestamp, version 7, then the sub-millisecond
     * fraction 901 * 4096 / 1000 = 0xe6a. */
    assert_memory_equal(u, "018cc820-db2e-7e6a-", 19);

    for (int i = 0; i < 1000; i++) {
        crypto_uuid7(SOME_US + i * 7919, u);
        assert_uuid7_shape(u);
    }
    crypto_uuid7(0, u);
    assert_uuid7_shape(u);
    assert_memory_equal(u, "00000000-0000-7000-", 19);
}

static void test_uuid_valid(void **state)
{
    static const char *const good[] = {
        "01890a5d-ac96-774b-bcce-b302099a8057",
        "01890A5D-AC96-774B-BCCE-B302099A8057",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    };
    static const char *const bad[] = {
        "",
        "01890a5d",
        "01890a5d-ac96-774b-bcce-b302099a805",      /* 35 chars */
        "01890a5d-ac96-774b-bcce-b302099a80577",    /* 37 chars */
        "01890a5dac96-774b-bcce-b302099a80577",     /* dash missing */
        "01890a5d-ac96-774b-bcce_b302099a8057",     /* wrong separator */
        "01890a5d-ac96-774b-bcceb-302099a8057",     /* dash misplaced */
        "01890a5g-ac96-774b-bcce-b302099a8057",     /* not hex */
        "01890a5d-ac96-774b-bcce-b302099a805 ",
        " 1890a5d-ac96-774b-bcce-b302099a8057",
        "{01890a5d-ac96-774b-bcce-b302099a8057}",
        "01890a5d-ac96-774b-bcce-b302099a8057\n",
        "../../../../../../../../../etc/passwd",
    };
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(crypto_uuid_valid(good[i]), 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(crypto_uuid_valid(bad[i]), 0);
}

/* A short string must not be read past its NUL (ASan checks the heap copy). */
static void test_uuid_valid_short_heap(void **state)
{
    char *s = strdup("0189");
    (void)state;
    assert_non_null(s);
    assert_int_equal(crypto_uuid_valid(s), 0);
    free(s);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, CRYPTO_UUID_LEN);
}

static void test_uuid7_unique(void **state)
{
    char (*ids)[CRYPTO_UUID_LEN] = calloc(MANY_IDS, CRYPTO_UUID_LEN);
    (void)state;

    assert_non_null(ids);
    /* All with the same timestamp: only the random bits tell them apart. */
    for (int i = 0; i < MANY_IDS; i++)
        crypto_uuid7(SOME_US, ids[i]);
    qsort(ids, MANY_IDS, CRYPTO_UUID_LEN, cmp_id);
    for (int i = 1; i < MANY_IDS; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
}

/* Ids come from a per-thread block of random bytes: a forked child must not
 * hand out the ones its parent is about to. */
static void test_uuid7_differs_after_fork(void **state)
{
    char mine[4][CRYPTO_UUID_LEN], theirs[4][CRYPTO_UUID_LEN], first[CRYPTO_UUID_LEN];
    int fds[2], status;
    pid_t pid;
    (void)state;

    crypto_uuid7(SOME_US, first);   /* the block is drawn and partly left */
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 4; i++)
            crypto_uuid7(SOME_US, theirs[i]);
        _exit(write(fds[1], theirs, sizeof theirs) == (ssize_t)sizeof theirs ? 0 : 1);
    }
    close(fds[1]);
    for (int i = 0; i < 4; i++)
        crypto_uuid7(SOME_US, mine[i]);
    assert_int_equal(read(fds[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++)
            assert_string_not_equal(mine[i], theirs[k]);
}

static void test_uuid7_sorts_by_time(void **state)
{
    char prev[CRYPTO_UUID_LEN], cur[CRYPTO_UUID_LEN];
    int64_t us = SOME_US;
    (void)state;

    crypto_uuid7(us, prev);
    for (int i = 0; i < 20000; i++) {
        /* Steps of 1 us cross millisecond boundaries too. */
        us += (i % 3 == 0) ? 1 : (i % 3 == 1) ? 999 : 12345;
        crypto_uuid7(us, cur);
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof cur);
    }
}

static void test_uuid7_ms_roundtrip(void **state)
{
    static const int64_t us[] = {0, 999, 1000, SOME_US, INT64_C(281474976710655999)};
    char u[CRYPTO_UUID_LEN];
    (void)state;

    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++) {
        crypto_uuid7(us[i], u);
        assert_int_equal(crypto_uuid7_ms(u), us[i] / 1000);
    }
    assert_int_equal(crypto_uuid7_ms("01890a5d-ac96-774b-bcce-b302099a8057"),
                     INT64_C(0x01890a5dac96));
    assert_int_equal(crypto_uuid7_ms("01890A5D-AC96-774B-BCCE-B302099A8057"),
                     INT64_C(0x01890a5dac96));
}

static void test_random_hex(void **state)
{
    static const size_t sizes[] = {0, 1, 16, 63, 64, 65, 200};
    char buf[2 * 200 + 2];
    char other[2 * 16 + 1];
    (void)state;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        memset(buf, 'Z', sizeof buf);
        crypto_random_hex(buf, n);
        assert_int_equal(strlen(buf), 2 * n);
        for (size_t k = 0; k < 2 * n; k++)
            assert_true(is_lower_hex(buf[k]));
        assert_int_equal(buf[2 * n + 1], 'Z');   /* nothing written after the NUL */
    }
    crypto_random_hex(buf, 16);
    crypto_random_hex(other, 16);
    assert_string_not_equal(buf, other);
}

static void test_sha256(void **state)
{
    char h[65];
    (void)state;

    crypto_sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* The incremental digest equals the one-shot one, whatever the split; a
 * 3000-byte input spans many 64-byte blocks. */
static void test_sha256_incremental(void **state)
{
    static char buf[3000];
    char one[65], inc[65];
    struct crypto_sha256_state st;
    (void)state;

    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)('a' + i % 23);
    crypto_sha256_hex(buf, sizeof buf, one);
    for (size_t cut = 0; cut <= sizeof buf; cut += 997) {
        crypto_sha256_init(&st);
        crypto_sha256_update(&st, buf, cut);
        crypto_sha256_update(&st, buf + cut, sizeof buf - cut);
        crypto_sha256_final_hex(&st, inc);
        assert_string_equal(inc, one);
    }
    crypto_sha256_init(&st);
    crypto_sha256_update(&st, "ab", 2);
    crypto_sha256_update(&st, "c", 1);
    crypto_sha256_final_hex(&st, inc);
    assert_string_equal(inc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void hex32(const unsigned char mac[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* RFC 4231 test cases 1 and 2, and 6 (a key longer than the block). */
static void test_hmac_sha256(void **state)
{
    unsigned char key[131], mac[32];
    char hex[65];
    const char *long_msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    (void)state;

    memset(key, 0x0b, 20);
    crypto_hmac_sha256(key, 20, "Hi There", 8, mac);
    hex32(mac, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hex32(mac, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, sizeof key);
    crypto_hmac_sha256(key, sizeof key, long_msg, strlen(long_msg), mac);
    hex32(mac, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_sha1(void **state)
{
    char h[41];
    (void)state;

    crypto_sha1_hex("abc", 3, h);
    assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    crypto_sha1_hex("", 0, h);
    assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid7_format),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_uuid_valid_short_heap),
        cmocka_unit_test(test_uuid7_unique),
        cmocka_unit_test(test_uuid7_differs_after_fork),
        cmocka_unit_test(test_uuid7_sorts_by_time),
        cmocka_unit_test(test_uuid7_ms_roundtrip),
        cmocka_unit_test(test_random_hex),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_sha256_incremental),
        cmocka_unit_test(test_hmac_sha256),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
