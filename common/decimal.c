/* decimal.c - see decimal.h. */
#include "common/decimal.h"

size_t decimal_len(uint64_t v)
{
    size_t d = 1;

    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

size_t decimal_put(char *out, uint64_t v)
{
    size_t d = decimal_len(v);

    for (size_t i = d; i > 0; i--) {
        out[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return d;
}

size_t decimal_str(char out[DECIMAL_STR_MAX], int64_t v)
{
    size_t n = 0;

    if (v < 0)
        out[n++] = '-';
    /* The magnitude, INT64_MIN's too, as unsigned. */
    n += decimal_put(out + n, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    out[n] = '\0';
    return n;
}
