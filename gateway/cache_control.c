/* cache_control.c - a request's Cache-Control directives; see
 * cache_control.h. */
#include "gateway/cache_control.h"

#include <string.h>
#include <strings.h>

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* 1 when the directive name name[0..n) is lit. */
static int is(const char *name, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp(name, lit, n) == 0;
}

enum cache_mode cache_control_mode(const char *value)
{
    const char *p = value, *end;
    int no_cache = 0, no_store = 0;

    if (value == NULL || strnlen(value, CACHE_CONTROL_MAX + 1) > CACHE_CONTROL_MAX)
        return CACHE_USE;
    end = value + strlen(value);
    while (p < end) {
        const char *name, *arg = NULL;
        size_t n, an = 0;

        while (p < end && (blank(*p) || *p == ','))
            p++;
        name = p;
        while (p < end && !blank(*p) && *p != ',' && *p != '=')
            p++;
        n = (size_t)(p - name);
        if (p < end && *p == '=') {
            arg = ++p;
            if (p < end && *p == '"') {
                const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
                if (q == NULL)
                    return CACHE_USE;       /* malformed: nothing asked */
                arg = p + 1;
                an = (size_t)(q - arg);
                p = q + 1;
            } else {
                while (p < end && !blank(*p) && *p != ',')
                    p++;
                an = (size_t)(p - arg);
            }
        }
        while (p < end && blank(*p))
            p++;
        if (p < end && *p != ',')
            return CACHE_USE;
        if (is(name, n, "no-store"))
            no_store = 1;
        else if (is(name, n, "no-cache"))
            no_cache = 1;
        else if (is(name, n, "max-age") && arg != NULL && an == 1 && arg[0] == '0')
            no_cache = 1;
    }
    return no_store ? CACHE_BYPASS : no_cache ? CACHE_REFRESH : CACHE_USE;
}
