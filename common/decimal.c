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
