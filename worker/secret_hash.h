/* secret_hash.h - the rule for password hashes written out: crypt(3)'s
 * md5-crypt ($1$), sha256-crypt ($5$), sha512-crypt ($6$), yescrypt ($y$)
 * and bcrypt ($2a$ $2b$ $2x$ $2y$), Apache's apr1 ($apr1$, htpasswd) and
 * Argon2's PHC string ($argon2id$v=19$m=...,t=...,p=...$SALT$HASH);
 * Django's (pbkdf2_sha256$..., argon2$argon2id$..., bcrypt_sha256$$2b$...,
 * scrypt$..., the legacy sha1$... and md5$...) and LDAP's ({SSHA}BASE64
 * and the like, {PBKDF2-SHA256}ROUNDS$SALT$KEY, {PKCS5S2}BASE64). A hash can be
 * cracked offline, so it is a secret; the user name before it
 * (user:$apr1$...) stays.
 *
 * The '$' may be written "$$" (a Compose file's escape) or "\$" (in a
 * shell string), the same way throughout one hash.
 */
#ifndef WK_SECRET_HASH_H
#define WK_SECRET_HASH_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the password-hash rule at the '$' at t[i]: a hash not glued to a
 * word before it, its salt and hash of the lengths its scheme writes, the
 * hash not made mostly of one byte. Returns the offset past the hash, its
 * span added (from the '\' of a "\$"), or 0. */
size_t secret_hash_at(struct scan *s, size_t i);

/* Tries Django's hashers at the '$' at t[i] that ends the hasher's name:
 * pbkdf2_sha256$ITERATIONS$SALT$HASH (and pbkdf2_sha1), scrypt$N$SALT$R$P$
 * HASH, argon2$argon2id$... and bcrypt_sha256$$2b$... (or bcrypt$$2b$...),
 * sha1$SALT$HEX and md5$SALT$HEX (the salt may be empty), each hash of the
 * length the hasher writes. Returns the offset past the
 * hash, its span (from the name) added, or 0. */
size_t secret_hash_django_at(struct scan *s, size_t i);

/* Tries LDAP's schemes at the '{' at t[i]: {SHA}, {SSHA}, {SHA256},
 * {SSHA256}, {SHA384}, {SSHA384}, {SHA512}, {SSHA512}, {MD5}, {SMD5},
 * {PKCS5S2}, {PBKDF2_SHA256} (any case), then the base64 of the digest
 * (and its salt, for the S schemes), padded, not mostly one byte; or
 * {PBKDF2}, {PBKDF2-SHA1}, {PBKDF2-SHA256}, {PBKDF2-SHA512}, then
 * ROUNDS$SALT$KEY, the key of its digest's length. Returns the offset past it, its span (from the '{')
 * added, or 0. */
size_t secret_hash_ldap_at(struct scan *s, size_t i);

#endif
