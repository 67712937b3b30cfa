/* crypto.h - randomness, identifiers and hashes (the one place libsodium is
 * included; the digests are OpenSSL's). */
#ifndef CI_CRYPTO_H
#define CI_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* "01890a5d-ac96-774b-bcce-b302099a8057" plus NUL. */
#define CRYPTO_UUID_LEN 37

/* Initialises libsodium. Returns 0, or -1 when no randomness is available. */
int crypto_init(void);

/* Fills buf with n cryptographically random bytes. */
void crypto_random(void *buf, size_t n);

/* Writes a lowercase UUIDv7 (RFC 9562) for epoch microseconds us into out
 * (CRYPTO_UUID_LEN bytes): 48-bit millisecond timestamp, 12-bit sub-millisecond
 * fraction, 62 random bits, so ids sort by creation time. The random bits
 * come from a per-thread block of kernel randomness (no system call per
 * id; a forked child never repeats its parent's). Returns out. */
char *crypto_uuid7(int64_t us, char *out);

/* 1 when s is a canonical lowercase-or-uppercase hyphenated UUID string. */
int crypto_uuid_valid(const char *s);

/* Epoch milliseconds encoded in a UUIDv7 (no validation beyond the format). */
int64_t crypto_uuid7_ms(const char *uuid);

/* The value of hex digit c (either case), or -1 when c is not one. */
int crypto_hex_digit(char c);

/* Writes n random bytes as 2n lowercase hex chars plus NUL into out (cap >= 2n+1). */
void crypto_random_hex(char *out, size_t n);

/* SHA-256 of data as 64 lowercase hex chars plus NUL in out (65 bytes). */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);

/* SHA-1 of data as 40 lowercase hex chars plus NUL (Redis script ids only). */
void crypto_sha1_hex(const void *data, size_t len, char out[41]);

/* Incremental SHA-256 (for digests of several parts). Every init must be
 * followed by final, which releases the state. */
struct crypto_sha256_state { unsigned char opaque[128] __attribute__((aligned(16))); };
void crypto_sha256_init(struct crypto_sha256_state *st);
void crypto_sha256_update(struct crypto_sha256_state *st, const void *data, size_t len);
/* Writes 64 lowercase hex chars plus NUL. */
void crypto_sha256_final_hex(struct crypto_sha256_state *st, char out[65]);

/* HMAC-SHA-256 of data under key into mac (32 bytes). */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        unsigned char mac[32]);

/* 1 when a[0..n) equals b[0..n), in time independent of the contents. */
int crypto_equal(const void *a, const void *b, size_t n);

/* Keyed BLAKE2b-256 of data (key 16..64 bytes) as 64 hex chars plus NUL. A
 * key over 64 bytes is a caller's error (config refuses such a pepper): only
 * its first 64 bytes are used. */
void crypto_keyed_hash_hex(const void *key, size_t key_len, const void *data, size_t len,
                           char out[65]);

/* Writes n random base62 characters plus NUL into out (cap >= n + 1). */
void crypto_random_base62(char *out, size_t n);

/* Hashes a password with argon2id (interactive limits) into out
 * (CRYPTO_PWHASH_LEN bytes). Returns 0, or -1 when out of memory. */
#define CRYPTO_PWHASH_LEN 128
int crypto_password_hash(const char *password, size_t len, char out[CRYPTO_PWHASH_LEN]);

/* 1 when password matches an argon2id hash string, else 0. */
int crypto_password_verify(const char *hash, const char *password, size_t len);

/* Overwrites n bytes so the compiler cannot skip it. */
void crypto_wipe(void *p, size_t n);

#endif
