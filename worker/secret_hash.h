/* secret_hash.h - the rule for password hashes written out: crypt(3)'s
 * md5-crypt ($1$), sha256-crypt ($5$), sha512-crypt ($6$), yescrypt ($y$)
 * and bcrypt ($2a$ $2b$ $2x$ $2y$), Apache's apr1 ($apr1$, htpasswd) and
 * Argon2's PHC string ($argon2id$v=19$m=...,t=...,p=...$SALT$HASH). A hash
 * can be cracked offline, so it is a secret; the user name before it
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

#endif
