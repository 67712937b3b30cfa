/* secret_args.c - secrets passed beside the string naming them; see
 * secret_args.h. The rules are described in the table at the top of
 * secret_rules.c.
 */
#include "worker/secret_args.h"

#include "worker/secret_assign.h"
#include "worker/secret_placeholder.h"
#include "worker/secret_text.h"

/* Blanks of indentation before a call without parentheses (password
 * "..." in a nested Gradle block). */
#define INDENT_MAX 64

static int is_arg_name_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-' || c == '.';
}

void secret_args_call_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, k, e, vs, ve;

    j = scan_skip_blanks_back(s, j);
    if (j == 0 || (t[j - 1] != '(' && t[j - 1] != '['))
        return;
    e = i + 1 + scan_run_len(s, i + 1, is_arg_name_char, SECRET_NAME_MAX);
    if (e == i + 1 || e - (i + 1) > SECRET_NAME_MAX || e >= s->n || t[e] != t[i])
        return;
    k = scan_skip_blanks(s, e + 1);
    if (k >= s->n)
        return;
    if (t[j - 1] == '(' && t[k] == ',')
        secret_assign_value(s, i + 1, e, k + 1, VALUE_QUOTED_ONLY);
    /* getenv("X") or "...", ENV["X"] || "...", ENV.fetch("X") { "..." } */
    else if (t[k] == (t[j - 1] == '(' ? ')' : ']') &&
             secret_assign_default_at(s, k + 1, &vs, &ve))
        secret_assign_span(s, i + 1, e, vs, ve, 1);
}

/* Offset past the quoted literal at t[p] on its line, or 0 (escapes
 * skipped, at most SECRET_VALUE_MAX bytes). */
static size_t literal_end(const struct scan *s, size_t p)
{
    size_t k;

    for (k = p + 1; k < s->n && k - p <= SECRET_VALUE_MAX + 1; k++) {
        if (s->t[k] == '\\')
            k++;
        else if (s->t[k] == s->t[p] || s->t[k] == '\n')
            break;
    }
    return k < s->n && s->t[k] == s->t[p] ? k + 1 : 0;
}

/* 1 when only blanks, a ';' and a '}' or ')' stand between t[k] and the
 * end of its line. */
static int ends_statement(const struct scan *s, size_t k)
{
    k = scan_skip_blanks(s, k);
    if (k < s->n && s->t[k] == ';')
        k = scan_skip_blanks(s, k + 1);
    if (k < s->n && (s->t[k] == '}' || s->t[k] == ')'))
        k++;
    return k >= s->n || s->t[k] == '\n' || s->t[k] == '\r';
}

/* 1 when t[j - len..j) is lit, ignoring case, after a blank or '(' (or the
 * start of the text). */
static int word_before_is(const struct scan *s, size_t j, const char *lit, size_t len)
{
    return j >= len && scan_prefix_ci(s->t + j - len, len, lit) &&
           (j == len || is_blank((unsigned char)s->t[j - len - 1]) || s->t[j - len - 1] == '(' ||
            s->t[j - len - 1] == '=');
}

void secret_args_bare_call_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, ne, ns, end, vn;
    int guard;

    j = scan_skip_blanks_back(s, j);
    if (j == i || j == 0)
        return;     /* no blank before the quote, or only blanks */
    /* what stands before is tested first: most quotes follow no blank or
     * other code, and the literal is read only then */
    if ((t[j - 1] | 0x20) == 'g' && word_before_is(s, j, "-string", 7))
        j = scan_skip_blanks_back(s, j - 7);
    if (j > 0 && (t[j - 1] | 0x20) == 'g' &&
        word_before_is(s, j, "convertto-securestring", 22)) {
        /* PowerShell: the plain text of a SecureString, a password */
        if ((end = literal_end(s, i)) == 0)
            return;
        vn = end - 1 - (i + 1);
        if (!secret_placeholder_is(t + i + 1, vn) &&
            (secret_text_generic_ok(t + i + 1, vn, 1) || secret_text_password_ok(t + i + 1, vn, 1)))
            scan_add(s, i + 1, end - 1, K_GENERIC, SECRET_NAME_LISTED | SECRET_NAME_PASSWORD);
        return;
    }
    ne = j;
    while (j > 0 && ne - j < SECRET_NAME_MAX && ascii_is_alnum_us((unsigned char)t[j - 1]))
        j--;
    ns = j;
    for (guard = 0; j > 0 && guard < INDENT_MAX && is_blank((unsigned char)t[j - 1]); guard++)
        j--;
    /* NAME "VALUE" alone on its line: password "..." in a Gradle block */
    if (ns < ne && (j == 0 || t[j - 1] == '\n') &&
        (secret_text_name_flags(t, ns, ne) & SECRET_NAME_LISTED) != 0 &&
        (end = literal_end(s, i)) != 0 && ends_statement(s, end))
        secret_assign_span(s, ns, ne, i + 1, end - 1, 1);
}

void secret_args_fallback_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, ne;

    j = scan_skip_blanks_back(s, j);
    ne = j;
    while (j > 0 && ne - j < SECRET_NAME_MAX && is_name_char((unsigned char)t[j - 1]))
        j--;
    if (j < ne)
        secret_assign_value(s, j, ne, i + 2, VALUE_QUOTED_ONLY);
}

/* 1 when t[ns..ne) names a secret (secret_text_name_flags). */
static int names_secret(const struct scan *s, size_t ns, size_t ne)
{
    return ne > ns && (secret_text_name_flags(s->t, ns, ne) & SECRET_NAME_LISTED) != 0;
}

void secret_args_shell_default_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t ns = i + 2, ne, k, vs, e, on, oe;

    ne = ns + scan_run_len(s, ns, ascii_is_alnum_us, SECRET_NAME_MAX);
    if (ne == ns || ne - ns > SECRET_NAME_MAX || ne >= s->n)
        return;
    k = ne + (t[ne] == ':');
    /* :- and - (use), := and = (assign); not :? (an error message) or :+ */
    if (k >= s->n || (t[k] != '-' && t[k] != '='))
        return;
    /* The word ends at the first '}' of the line; a '{' is a nested
     * expansion (${A:-${B}}), and each scan stops at the next one. */
    vs = k + 1;
    for (e = vs; e < s->n && e - vs <= SECRET_VALUE_MAX && !ascii_in_set(t[e], "{}\n"); e++)
        ;
    if (e >= s->n || t[e] != '}')
        return;
    if (e - vs >= 2 && is_quote((unsigned char)t[vs]) && t[e - 1] == t[vs]) {
        vs++;       /* ${X:-"..."} */
        e--;
    }
    /* Most defaults (a port, a flag) are too short to be a secret: then
     * neither name is read. */
    if (e - vs < SECRET_VALUE_MIN)
        return;
    if (!names_secret(s, ns, ne)) {
        if (!scan_assigned_name(s, i, &on, &oe) || !names_secret(s, on, oe))
            return;
        ns = on;
        ne = oe;
    }
    secret_assign_span(s, ns, ne, vs, e, 1);
}
