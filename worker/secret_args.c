/* secret_args.c - secrets passed beside the string naming them; see
 * secret_args.h. The rules are described in the table at the top of
 * secret_rules.c.
 */
#include "worker/secret_args.h"

#include "worker/secret_assign.h"
#include "worker/secret_text.h"

static int is_arg_name_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-' || c == '.';
}

void secret_args_call_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, k, e, vs, ve;
    int guard;

    for (guard = 0; j > 0 && guard < ASSIGN_BLANKS_MAX && is_blank((unsigned char)t[j - 1]);
         guard++)
        j--;
    if (j == 0 || t[j - 1] != '(')
        return;
    e = i + 1 + scan_run_len(s, i + 1, is_arg_name_char, SECRET_NAME_MAX);
    if (e == i + 1 || e - (i + 1) > SECRET_NAME_MAX || e >= s->n || t[e] != t[i])
        return;
    k = scan_skip_blanks(s, e + 1);
    if (k < s->n && t[k] == ',')
        secret_assign_value(s, i + 1, e, k + 1, VALUE_QUOTED_ONLY);
    else if (k < s->n && t[k] == ')' && secret_assign_default_at(s, k + 1, &vs, &ve))
        secret_assign_span(s, i + 1, e, vs, ve, 1);   /* ENV.fetch("X") { "..." } */
}

void secret_args_fallback_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, ne;
    int guard;

    for (guard = 0; j > 0 && guard < ASSIGN_BLANKS_MAX && is_blank((unsigned char)t[j - 1]);
         guard++)
        j--;
    ne = j;
    while (j > 0 && ne - j < SECRET_NAME_MAX && is_name_char((unsigned char)t[j - 1]))
        j--;
    if (j < ne)
        secret_assign_value(s, j, ne, i + 2, VALUE_QUOTED_ONLY);
}
