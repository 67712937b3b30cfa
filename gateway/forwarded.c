/* forwarded.c - the client's address behind trusted reverse proxies. */
#include "gateway/forwarded.h"

#include <string.h>

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The last entry of line[0..*len), trimmed, as item[0..*n); *len becomes
 * the length of what is left before it (its comma excluded). Returns 0
 * when nothing but commas and blanks is left. */
static int last_entry(const char *line, size_t *len, const char **item, size_t *n)
{
    while (*len > 0) {
        size_t end = *len, start = end;

        while (start > 0 && line[start - 1] != ',')
            start--;
        *len = start > 0 ? start - 1 : 0;
        while (end > start && blank(line[end - 1]))
            end--;
        while (start < end && blank(line[start]))
            start++;
        if (end > start) {
            *item = line + start;
            *n = end - start;
            return 1;
        }
    }
    return 0;
}

enum forwarded_from forwarded_client(const struct cidr_list *trusted, const struct cidr *peer,
                                     const char *const *lines, int n, struct cidr *out)
{
    int hops = 0;

    *out = *peer;
    if (n <= 0 || !cidr_list_contains(trusted, peer))
        return FORWARDED_PEER;
    for (int i = n - 1; i >= 0; i--) {
        size_t len = strlen(lines[i]), m;
        const char *item;

        while (last_entry(lines[i], &len, &item, &m)) {
            struct cidr hop;

            if (++hops > FORWARDED_HOPS_MAX || !cidr_parse_host(item, m, &hop))
                return FORWARDED_LAST_TRUSTED;
            *out = hop;
            if (!cidr_list_contains(trusted, &hop))
                return FORWARDED_HEADER;
        }
    }
    return FORWARDED_LAST_TRUSTED;
}
