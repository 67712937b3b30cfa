/* resp.c - see resp.h. */
#include "common/resp.h"

#include "common/decimal.h"

#include <stdlib.h>
#include <string.h>

/* Writes "<c><n>\r\n" at p; returns the end. */
static char *put_header(char *p, char c, size_t n)
{
    size_t d;

    *p = c;
    d = decimal_put(p + 1, n);
    p[d + 1] = '\r';
    p[d + 2] = '\n';
    return p + d + 3;
}

static size_t arg_len(const char **argv, const size_t *lens, int i)
{
    return lens != NULL ? lens[i] : strlen(argv[i]);
}

size_t resp_size(int argc, const char **argv, const size_t *lens)
{
    size_t n = 1 + decimal_len((size_t)argc) + 2;

    for (int i = 0; i < argc; i++) {
        size_t l = arg_len(argv, lens, i);
        n += 1 + decimal_len(l) + 2 + l + 2;
    }
    return n;
}

char *resp_encode(int argc, const char **argv, const size_t *lens, char *buf, size_t cap,
                  size_t *len)
{
    size_t n = resp_size(argc, argv, lens);
    char *out = buf, *p;

    if (n > cap && (out = malloc(n)) == NULL)
        return NULL;
    p = put_header(out, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t l = arg_len(argv, lens, i);
        p = put_header(p, '$', l);
        if (l > 0)
            memcpy(p, argv[i], l);
        p[l] = '\r';
        p[l + 1] = '\n';
        p += l + 2;
    }
    *len = n;
    return out;
}
