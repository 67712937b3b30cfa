/* utf8.c - strict UTF-8 validation, and cuts at character boundaries. */
#include "common/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int is_continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

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
    while (n > 0 && is_continuation((unsigned char)s[n]))
        n--;
    return n;
}

int utf8_prec(const char *s, size_t max)
{
    return (int)utf8_cut(s, strlen(s), max);
}

size_t utf8_tail(const char *s, size_t len, size_t max)
{
    size_t i;

    if (len <= max)
        return 0;
    i = len - max;
    /* At most three continuation bytes follow a lead byte. */
    for (int k = 0; k < 3 && i < len && is_continuation((unsigned char)s[i]); k++)
        i++;
    return i;
}

/* Largest n <= len such that s[0..n) does not end inside a sequence whose
 * lead byte announces more bytes than s[0..len) holds (a text whose cut
 * already happened, without the byte after it). */
static size_t whole_prefix(const char *s, size_t len)
{
    size_t i = len;

    for (int k = 0; k < 4 && i > 0; k++) {
        unsigned char c = (unsigned char)s[--i];
        size_t need;

        if (is_continuation(c))
            continue;
        need = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        return len - i >= need ? len : i;
    }
    return len;     /* no lead byte: not UTF-8 anyway, nothing to mend */
}

size_t utf8_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
    int r = vsnprintf(buf, cap, fmt, ap);
    size_t n;

    if (r < 0) {
        buf[0] = '\0';
        return 0;
    }
    if ((size_t)r < cap)
        return (size_t)r;
    n = whole_prefix(buf, cap - 1);
    buf[n] = '\0';
    return n;
}

size_t utf8_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    n = utf8_vfmt(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}
