/* secret_pem.h - the private-key rules: a PEM block from -----BEGIN ...PRIVATE KEY-----,
 * and a key whose BEGIN line was cut off, from its -----END line back.
 */
#ifndef WK_SECRET_PEM_H
#define WK_SECRET_PEM_H

#include <stddef.h>

#include "worker/secret_scan.h"

/* Tries the PEM rules at a "--" at t[i]. Returns the offset past a key
 * found (its span added), or 0. */
size_t secret_pem_at(struct scan *s, size_t i);

#endif
