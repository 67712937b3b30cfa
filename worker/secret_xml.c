/* secret_xml.c - the XML element rule; see secret_xml.h. The rules are
 * described in the table at the top of secret_rules.c.
 */
#include "worker/secret_xml.h"

#include <string.h>

#include "worker/secret_assign.h"
#include "worker/secret_text.h"

static int is_tag_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

void secret_xml_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t ns = i + 1, ne, vs, ve, len;

    ne = ns + scan_run_len(s, ns, is_tag_char, SECRET_NAME_MAX);
    if (ne == ns || ne - ns > SECRET_NAME_MAX || ne >= s->n || t[ne] != '>')
        return;
    vs = ne + 1;
    for (ve = vs; ve < s->n && ve - vs <= SECRET_VALUE_MAX && t[ve] != '<' && t[ve] != '\n'; ve++)
        ;
    len = ne - ns;
    if (ve == vs || ve - vs > SECRET_VALUE_MAX || !scan_has(s, ve, "</", 2) ||
        !scan_has(s, ve + 2, t + ns, len) || !scan_has(s, ve + 2 + len, ">", 1))
        return;
    secret_assign_span(s, ns, ne, vs, ve, 1);
}
