/* crypto.c - randomness, UUIDv7 and passwords from libsodium; SHA-256 and
 * HMAC from OpenSSL, whose SHA-NI/AVX2 code hashes a 2 KB body in 3 us where
 * libsodium's portable C takes 19 (bench: the gateway digests every body). */
#include "common/crypto.h"

#include <ctype.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int crypto_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void crypto_random(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

/* The random part of ids comes from a per-thread block drawn from the
 * kernel RANDOM_BLOCK bytes at a time: an id then costs no system call.
 * Bytes handed out are wiped from the block; a forked child starts with
 * an empty block (its parent's must never be handed out twice). */
#define RANDOM_BLOCK 512
static __thread unsigned char random_block[RANDOM_BLOCK];
static __thread size_t random_left;
static pthread_once_t random_once = PTHREAD_ONCE_INIT;

static void random_forked(void)
{
    /* In the child, on the thread that forked: the only one there. */
    sodium_memzero(random_block, sizeof random_block);
    random_left = 0;
}

static void random_once_init(void)
{
    pthread_atfork(NULL, NULL, random_forked);
}

/* n is at most RANDOM_BLOCK (an id takes 8). */
static void random_take(unsigned char *out, size_t n)
{
    unsigned char *p;

    pthread_once(&random_once, random_once_init);
    if (random_left < n) {
        randombytes_buf(random_block, sizeof random_block);
        random_left = sizeof random_block;
    }
    p = random_block + sizeof random_block - random_left;
    memcpy(out, p, n);
    sodium_memzero(p, n);
    random_left -= n;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

char *crypto_uuid7(int64_t us, char *out)
{
    unsigned char b[16];
    char hex[33];
    uint64_t t = (uint64_t)(us / 1000);
    /* RFC 9562 method 3: the 12 bits after the version carry the sub-millisecond
     * fraction, so ids from one process sort to the microsecond. */
    unsigned frac = (unsigned)((us % 1000) * 4096 / 1000);

    random_take(b + 8, 8);
    for (int i = 5; i >= 0; i--) {
        b[i] = (unsigned char)(t & 0xff);
        t >>= 8;
    }
    b[6] = (unsigned char)(0x70 | (frac >> 8));    /* version 7 */
    b[7] = (unsigned char)(frac & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));  /* variant 10 */
    hex_encode(b, 16, hex);
    /* 8-4-4-4-12 */
    for (int i = 0, o = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[36] = '\0';
    return out;
}

int crypto_uuid_valid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (s[i] == '\0')
            return 0;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return s[36] == '\0';
}

int64_t crypto_uuid7_ms(const char *uuid)
{
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        char c = uuid[i];
        if (c == '-')
            continue;
        ms = ms * 16 +
             (isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
    }
    return ms;
}

int crypto_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void crypto_random_hex(char *out, size_t n)
{
    unsigned char buf[64];

    while (n > 0) {
        size_t chunk = n < sizeof buf ? n : sizeof buf;
        randombytes_buf(buf, chunk);
        hex_encode(buf, chunk, out);
        out += 2 * chunk;
        n -= chunk;
    }
    *out = '\0';
}

/* SHA-256 as fetched from OpenSSL's provider once: EVP_sha256() and
 * SHA256() look it up again on every call. */
static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

    sha256_md = md != NULL ? md : EVP_sha256();
}

static const EVP_MD *sha256(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md;
}

void crypto_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    unsigned int n = sizeof h;

    if (EVP_Digest(data, len, h, &n, sha256(), NULL) != 1)
        crypto_hash_sha256(h, data, len);
    hex_encode(h, sizeof h, out);
}

void crypto_sha1_hex(const void *data, size_t len, char out[41])
{
    unsigned char h[SHA_DIGEST_LENGTH];

    SHA1(data, len, h);
    hex_encode(h, sizeof h, out);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char mac[32])
{
    unsigned int n = 32;

    /* Fails only out of memory; the libsodium path needs none. */
    if (HMAC(EVP_sha256(), key, (int)key_len, data, len, mac, &n) == NULL) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, key_len);
        crypto_auth_hmacsha256_update(&st, data, len);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_memzero(&st, sizeof st);
    }
}

int crypto_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void crypto_keyed_hash_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char out[65])
{
    unsigned char h[32];

    /* Never from config (CODEINSIGHT_KEY_PEPPER is at most 64 bytes); kept so
     * that a longer key cannot make crypto_generichash fail and leave h unset. */
    if (key_len > crypto_generichash_KEYBYTES_MAX)
        key_len = crypto_generichash_KEYBYTES_MAX;
    crypto_generichash(h, sizeof h, data, len, key, key_len);
    hex_encode(h, sizeof h, out);
}

void crypto_random_base62(char *out, size_t n)
{
    static const char alphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /* randombytes_uniform is unbiased. */
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform(62)];
    out[n] = '\0';
}

int crypto_password_hash(const char *password, size_t len, char out[CRYPTO_PWHASH_LEN])
{
    return crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

int crypto_password_verify(const char *hash, const char *password, size_t len)
{
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

void crypto_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

/* The opaque buffer holds an OpenSSL digest context, or, when that could
 * not be allocated, libsodium's state (same result, slower). */
struct sha256_impl {
    EVP_MD_CTX *ctx;                    /* NULL: sodium below is in use */
    crypto_hash_sha256_state sodium;
};
_Static_assert(sizeof(struct sha256_impl) <= sizeof(struct crypto_sha256_state),
               "struct crypto_sha256_state too small");

void crypto_sha256_init(struct crypto_sha256_state *st)
{
    struct sha256_impl *s = (struct sha256_impl *)(void *)st->opaque;

    s->ctx = EVP_MD_CTX_new();
    if (s->ctx != NULL && EVP_DigestInit_ex2(s->ctx, sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s->ctx);
        s->ctx = NULL;
    }
    if (s->ctx == NULL)
        crypto_hash_sha256_init(&s->sodium);
}

void crypto_sha256_update(struct crypto_sha256_state *st, const void *data, size_t len)
{
    struct sha256_impl *s = (struct sha256_impl *)(void *)st->opaque;

    if (s->ctx != NULL)
        EVP_DigestUpdate(s->ctx, data, len);
    else
        crypto_hash_sha256_update(&s->sodium, data, len);
}

void crypto_sha256_final_hex(struct crypto_sha256_state *st, char out[65])
{
    struct sha256_impl *s = (struct sha256_impl *)(void *)st->opaque;
    unsigned char h[SHA256_DIGEST_LENGTH];
    unsigned int n = sizeof h;

    if (s->ctx != NULL) {
        EVP_DigestFinal_ex(s->ctx, h, &n);
        EVP_MD_CTX_free(s->ctx);
        s->ctx = NULL;
    } else {
        crypto_hash_sha256_final(&s->sodium, h);
    }
    hex_encode(h, sizeof h, out);
}
