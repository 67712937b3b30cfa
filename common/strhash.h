/* strhash.h - a fast non-cryptographic hash of a NUL-terminated string, for
 * the gateway's in-memory tables (identity copies, view cache, event
 * subscriptions), whose keys are ids and digests no caller chooses freely. */
#ifndef CI_STRHASH_H
#define CI_STRHASH_H

#include <stdint.h>

/* 64-bit FNV-1a of s, its high bits folded into the low ones (tables take it
 * modulo their size). */
uint64_t strhash(const char *s);

#endif
