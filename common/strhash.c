/* strhash.c - see strhash.h. */
#include "common/strhash.h"

uint64_t strhash(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);  /* the FNV offset basis */

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);           /* the FNV prime */
    }
    return h ^ (h >> 29);
}
