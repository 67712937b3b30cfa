/* secret_conn.c - the connection-string rule; see secret_conn.h. The rules
 * are described in the table at the top of secret_rules.c.
 */
#include "worker/secret_conn.h"

#include <string.h>

#include "worker/secret_text.h"

/* Bytes of a URL authority (user:password@host:port). */
#define URL_AUTHORITY_MAX 512
/* Bytes of a URL scheme. */
#define URL_SCHEME_MAX 32

/* Bytes that end a URL authority. */
static int ends_authority(unsigned char c)
{
    return is_space(c) || c == '/' || c == '?' || c == '#' || is_quote(c) || c == '<' ||
           c == '>' || c == '\\' || c < 0x20;
}

void secret_conn_at(struct scan *s, size_t i)
{
    static const char *const stand_ins[] = {
        "password", "pass", "passwd", "pwd", "pw", "secret", NULL,
    };
    const char *t = s->t;
    size_t j = i, a, k, at = 0;
    const char *colon;
    size_t ps, pn, w;

    while (j > 0 && i - j < URL_SCHEME_MAX && is_scheme_char((unsigned char)t[j - 1]))
        j--;
    if (j == i || !ascii_is_alpha((unsigned char)t[j]))
        return;
    a = i + 3;
    for (k = a; k < s->n && k - a < URL_AUTHORITY_MAX; k++) {
        if (t[k] == '@')
            at = k;
        else if (ends_authority((unsigned char)t[k]))
            break;
    }
    if (at == 0 || (k < s->n && !ends_authority((unsigned char)t[k])))
        return;
    colon = memchr(t + a, ':', at - a);
    if (colon == NULL)
        return;
    ps = (size_t)(colon - t) + 1;
    pn = at - ps;
    if (pn == 0 || secret_text_is_placeholder(t + ps, pn))
        return;
    for (w = 0; stand_ins[w] != NULL; w++)
        if (pn == strlen(stand_ins[w]) && scan_prefix_ci(t + ps, pn, stand_ins[w]))
            return;
    scan_add(s, ps, at, K_CONN_PASSWORD, 0);
}
