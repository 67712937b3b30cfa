/* items.c - comma-separated lists in settings. */
#include "common/items.h"

#include <string.h>

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

int items_next(const char **cursor, const char **item, size_t *len)
{
    const char *s = *cursor;

    while (s != NULL && *s != '\0') {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);

        *cursor = end ? end + 1 : s + n;
        while (n > 0 && blank(*s)) {
            s++;
            n--;
        }
        while (n > 0 && blank(s[n - 1]))
            n--;
        if (n > 0) {
            *item = s;
            *len = n;
            return 1;
        }
        s = *cursor;
    }
    return 0;
}
