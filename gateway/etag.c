/* etag.c - entity tags and If-None-Match; see etag.h. */
#include "gateway/etag.h"

#include "common/crypto.h"

#include <string.h>

#define ETAG_HEX 32

void etag_of(const char *body, size_t len, char out[ETAG_LEN])
{
    char hex[65];

    crypto_sha256_hex(body, len, hex);
    out[0] = '"';
    memcpy(out + 1, hex, ETAG_HEX);
    out[ETAG_HEX + 1] = '"';
    out[ETAG_HEX + 2] = '\0';
}

static int ows(char c)
{
    return c == ' ' || c == '\t';
}

/* An etagc (RFC 9110): any visible character but '"', and obs-text. */
static int etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

int etag_none_match(const char *header, const char *tag)
{
    size_t n, tag_len = strlen(tag);
    const char *p = header, *end;

    if (header == NULL || (n = strnlen(header, ETAG_HEADER_MAX + 1)) > ETAG_HEADER_MAX)
        return 0;
    end = header + n;
    while (p < end && ows(*p))
        p++;
    if (p < end && *p == '*') {
        for (p++; p < end && ows(*p); p++)
            ;
        return p == end;
    }
    /* #entity-tag: empty elements and blanks around commas are allowed. */
    for (int matched = 0;;) {
        const char *open;

        while (p < end && (ows(*p) || *p == ','))
            p++;
        if (p == end)
            return matched;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        if (p == end || *p != '"')
            return 0;
        open = p++;
        while (p < end && etagc((unsigned char)*p))
            p++;
        if (p == end || *p != '"')
            return 0;
        p++;
        if ((size_t)(p - open) == tag_len && memcmp(open, tag, tag_len) == 0)
            matched = 1;
        while (p < end && ows(*p))
            p++;
        if (p < end && *p != ',')
            return 0;
    }
}
