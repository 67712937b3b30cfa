/* utf8.c - strict UTF-8 validation. */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

int utf8_valid(const char *str, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned lo = 0x80, hi = 0xbf;      /* bounds of the second byte */

        if (c < 0x80) {
            uint64_t w;

            /* ASCII, the common case: eight bytes at a time. */
            i++;
            while (i + sizeof w <= len) {
                memcpy(&w, s + i, sizeof w);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                i += sizeof w;
            }
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lo = 0xa0;       /* overlong */
            if (c == 0xed) hi = 0x9f;       /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lo = 0x90;       /* overlong */
            if (c == 0xf4) hi = 0x8f;       /* above U+10FFFF */
        } else {
            goto fail;
        }
        if (i + need >= len)            /* truncated sequence */
            goto fail;
        if (s[i + 1] < lo || s[i + 1] > hi)
            goto fail;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                goto fail;
        i += need + 1;
    }
    return 1;
fail:
    if (bad != NULL)
        *bad = i;
    return 0;
}

char *utf8_sanitize(char *s)
{
    size_t len = strlen(s), i = 0, bad;

    while (i < len && !utf8_valid(s + i, len - i, &bad)) {
        s[i + bad] = '?';
        i += bad + 1;
    }
    return s;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n;

    if (len <= max)
        return len;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}
