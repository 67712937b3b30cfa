/* crypto.h - randomness, identifiers and hashes (the one place libsodium is included). */
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
 * fraction, 62 random bits, so ids sort by creation time. Returns out. */
char *crypto_uuid7(int64_t us, char *out);

/* 1 when s is a canonical lowercase-or-uppercase hyphenated UUID string. */
int crypto_uuid_valid(const char *s);

/* Epoch milliseconds encoded in a UUIDv7 (no validation beyond the format). */
int64_t crypto_uuid7_ms(const char *uuid);

/* Writes n random bytes as 2n lowercase hex chars plus NUL into out (cap >= 2n+1). */
void crypto_random_hex(char *out, size_t n);

/* SHA-256 of data as 64 lowercase hex chars plus NUL in out (65 bytes). */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);

/* SHA-1 of data as 40 lowercase hex chars plus NUL (Redis script ids only). */
void crypto_sha1_hex(const void *data, size_t len, char out[41]);

#endif
