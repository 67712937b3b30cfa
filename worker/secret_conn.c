/* secret_conn.c - the connection-string rule; see secret_conn.h. The rules
 * are described in the table at the top of secret_rules.c.
 */
#include "worker/secret_conn.h"

#include <string.h>

#include "worker/secret_placeholder.h"
#include "worker/secret_text.h"

/* Bytes of a URL authority (user:password@host:port). */
#define URL_AUTHORITY_MAX 512
/* Bytes of a URL scheme. */
#define URL_SCHEME_MAX 32
/* Bytes of user:password or user/password before a DSN's '@'. */
#define DSN_USERINFO_MAX 128
/* Bytes of a host name after a DSN's '@'. */
#define DSN_HOST_MAX 255
/* Digits of a port. */
#define DSN_PORT_MAX 5
/* Bytes of an Azure AccountKey or SharedAccessKey value. */
#define AZURE_KEY_MAX 256
/* Shortest Azure key value, bytes (a SAS key is 44, an account key 88). */
#define AZURE_KEY_MIN 32
/* Bytes of an Azure SAS signature (sig=), URL-encoded: base64 of an
 * HMAC-SHA256, 44 bytes, longer with %2B %2F %3D; at least and at most. */
#define SAS_SIG_MIN 30
#define SAS_SIG_MAX 256
/* Bytes of an ODBC braced value, the closing brace included. */
#define ODBC_BRACED_MAX 256
/* Bytes of an Oracle user name in a JDBC URL. */
#define ORACLE_USER_MAX 128

/* Bytes that end a URL authority. */
static int ends_authority(unsigned char c)
{
    return is_space(c) || c == '/' || c == '?' || c == '#' || is_quote(c) || c == '<' ||
           c == '>' || c == '\\' || c < 0x20;
}

/* 1 when the password v[0..n) of a connection string is a real one: not
 * empty, not a placeholder (${X}, ***) nor the word password itself. */
static int password_ok(const char *v, size_t n)
{
    static const char *const stand_ins[] = {
        "password", "pass", "passwd", "pwd", "pw", "secret", NULL,
    };
    size_t w;

    if (n == 0 || secret_placeholder_is(v, n))
        return 0;
    for (w = 0; stand_ins[w] != NULL; w++)
        if (n == strlen(stand_ins[w]) && scan_prefix_ci(v, n, stand_ins[w]))
            return 0;
    return 1;
}

void secret_conn_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, a, k, at = 0;
    const char *colon;
    size_t ps, pn;

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
    if (password_ok(t + ps, pn))
        scan_add(s, ps, at, K_CONN_PASSWORD, 0);
}

static int is_host_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '.' || c == '-' || c == '_';
}

/* Bytes that end the user and password before a DSN's '@'. */
static int ends_userinfo(unsigned char c)
{
    return ends_authority(c) || c == '@' || c == '(' || c == ',' || c == ';' || c == '=';
}

/* 1 when an Oracle easy-connect address starts at k: host:port/ */
static int oracle_address(const struct scan *s, size_t k)
{
    size_t h = scan_run_len(s, k, is_host_char, DSN_HOST_MAX), d;

    if (h == 0 || h > DSN_HOST_MAX || !scan_has(s, k + h, ":", 1))
        return 0;
    d = scan_run_len(s, k + h + 1, ascii_is_digit, DSN_PORT_MAX);
    return d > 0 && d <= DSN_PORT_MAX && scan_has(s, k + h + 1 + d, "/", 1);
}

void secret_conn_at_sign_at(struct scan *s, size_t i)
{
    const char *t = s->t, *sep;
    size_t j = i, k;
    int go;

    go = scan_has(s, i + 1, "tcp(", 4) || scan_has(s, i + 1, "tcp6(", 5) ||
         scan_has(s, i + 1, "unix(", 5);
    if (!go && !oracle_address(s, i + 1))
        return;
    while (j > 0 && i - j < DSN_USERINFO_MAX && !ends_userinfo((unsigned char)t[j - 1]) &&
           (go || t[j - 1] != '/'))
        j--;
    if (go) {
        sep = memchr(t + j, ':', i - j);
    } else {
        /* Oracle: user/password, the user an identifier */
        if (j == 0 || t[j - 1] != '/' || j < 2)
            return;
        for (k = j - 1;
             k > 0 && j - k < DSN_USERINFO_MAX && ascii_is_alnum_us((unsigned char)t[k - 1]); k--)
            ;
        if (k == j - 1 || (k > 0 && !ends_userinfo((unsigned char)t[k - 1])))
            return;
        sep = t + j - 1;
    }
    if (sep == NULL)
        return;
    k = (size_t)(sep - t) + 1;
    if (password_ok(t + k, i - k))
        scan_add(s, k, i, K_CONN_PASSWORD, 0);
}

static int is_sas_char(unsigned char c)
{
    return is_b64(c) || c == '%' || c == '_' || c == '-';
}

/* An Azure SAS token's signature, the value of sig= after '?' or '&' (a
 * Blob URL, a SharedAccessSignature=, a Logic Apps trigger): URL-encoded
 * base64 or base64url. Returns the offset past it, its span added, or 0. */
static size_t sas_signature(struct scan *s, size_t i)
{
    const char *v = s->t + i + 1;
    size_t r;

    if (i < 4 || memcmp(s->t + i - 3, "sig", 3) != 0 ||
        (s->t[i - 4] != '?' && s->t[i - 4] != '&'))
        return 0;
    r = scan_run_len(s, i + 1, is_sas_char, SAS_SIG_MAX);
    if (r < SAS_SIG_MIN || r > SAS_SIG_MAX || !secret_text_two_classes(v, r) ||
        secret_text_mostly_one_byte(v, r) || secret_placeholder_is(v, r))
        return 0;
    scan_add(s, i + 1, i + 1 + r, K_AZURE_SAS, 0);
    return i + 1 + r;
}

size_t secret_conn_key_at(struct scan *s, size_t i)
{
    static const char *const names[] = {"AccountKey", "SharedAccessKey", NULL};
    size_t w, len, r;

    if (i > 0 && s->t[i - 1] == 'g')
        return sas_signature(s, i);
    if (i == 0 || s->t[i - 1] != 'y')
        return 0;     /* both names end in "Key" */
    for (w = 0; names[w] != NULL; w++) {
        len = strlen(names[w]);
        if (i >= len && memcmp(s->t + i - len, names[w], len) == 0 &&
            (i == len || !ascii_is_alnum((unsigned char)s->t[i - len - 1])))
            break;
    }
    if (names[w] == NULL)
        return 0;
    r = scan_run_len(s, i + 1, is_b64, AZURE_KEY_MAX);
    if (r < AZURE_KEY_MIN || r > AZURE_KEY_MAX || !password_ok(s->t + i + 1, r))
        return 0;
    scan_add(s, i + 1, i + 1 + r, K_CONN_PASSWORD, 0);
    return i + 1 + r;
}

/* Bytes of a .pgpass line's database or user field. */
#define PGPASS_FIELD_MAX 64

/* Offset past a .pgpass field at p ([^: \t\r\n"'] bytes, at most
 * PGPASS_FIELD_MAX) when a ':' ends it, else 0. */
static size_t pgpass_field(const struct scan *s, size_t p)
{
    size_t k;

    for (k = p; k < s->n && k - p <= PGPASS_FIELD_MAX && s->t[k] != ':' &&
                !is_space((unsigned char)s->t[k]) && !is_quote((unsigned char)s->t[k]);
         k++)
        ;
    return k > p && k - p <= PGPASS_FIELD_MAX && k < s->n && s->t[k] == ':' ? k + 1 : 0;
}

void secret_conn_pgpass_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, k, e;
    int named = 0;

    /* host: a name or an address starting its line (or a quoted string) */
    while (j > 0 && i - j <= DSN_HOST_MAX &&
           (ascii_is_alnum((unsigned char)t[j - 1]) || ascii_in_set(t[j - 1], ".-_*"))) {
        named |= ascii_is_alpha((unsigned char)t[j - 1]) || ascii_in_set(t[j - 1], ".*");
        j--;
    }
    if (j == i || !named || (j > 0 && t[j - 1] != '\n' && !is_quote((unsigned char)t[j - 1])))
        return;
    /* port: digits or '*' */
    k = i + 1;
    if (k < s->n && t[k] == '*')
        e = k + 1;
    else
        e = k + scan_run_len(s, k, ascii_is_digit, DSN_PORT_MAX);
    if (e == k || e - k > DSN_PORT_MAX || e >= s->n || t[e] != ':')
        return;
    if ((k = pgpass_field(s, e + 1)) == 0 || (k = pgpass_field(s, k)) == 0)
        return;      /* database, user */
    for (e = k; e < s->n && e - k <= SECRET_VALUE_MAX && !is_space((unsigned char)t[e]) &&
                !is_quote((unsigned char)t[e]);
         e++)
        ;
    if (e > k && e - k <= SECRET_VALUE_MAX && !secret_placeholder_is(t + k, e - k) &&
        (secret_text_generic_ok(t + k, e - k, 1) || secret_text_password_ok(t + k, e - k, 1)))
        scan_add(s, k, e, K_CONN_PASSWORD, 0);
}

/* 1 when the ODBC keyword before the '=' at t[i] is Pwd or Password (any
 * case) and a ';' stands before it (blanks between), or a quote when
 * quoted_ok. */
static int odbc_password_key(const struct scan *s, size_t i, int quoted_ok)
{
    size_t k = i, b;

    while (k > 0 && i - k <= 8 && ascii_is_alpha((unsigned char)s->t[k - 1]))
        k--;
    if (!((i - k == 3 && scan_prefix_ci(s->t + k, 3, "pwd")) ||
          (i - k == 8 && scan_prefix_ci(s->t + k, 8, "password"))))
        return 0;
    b = scan_skip_blanks_back(s, k);
    return b > 0 && (s->t[b - 1] == ';' || (quoted_ok && b == k && is_quote((unsigned char)s->t[b - 1])));
}

/* 1 when a braced ODBC value holding blanks is a password: the braces
 * make it one literal, blanks and all ("my secret pass"). Not a blank at
 * either end, nor a control byte or the syntax of a template or a dict
 * ({ db_pass }, {'k': v, ...}: braces, quotes, ':', '=', ','), nor the
 * word password (Enter password here); SECRET_VALUE_MIN bytes or more, a
 * letter among them. */
static int braced_phrase(const char *v, size_t n)
{
    size_t k, letters = 0;

    if (n < SECRET_VALUE_MIN || n > SECRET_VALUE_MAX || memchr(v, ' ', n) == NULL ||
        is_blank((unsigned char)v[0]) || is_blank((unsigned char)v[n - 1]))
        return 0;
    for (k = 0; k < n; k++) {
        if ((unsigned char)v[k] < 0x20 || ascii_in_set(v[k], "{}\"'`:=,") ||
            scan_prefix_ci(v + k, n - k, "password"))
            return 0;
        letters += ascii_is_alpha((unsigned char)v[k]);
    }
    return letters > 0;
}

size_t secret_conn_odbc_at(struct scan *s, size_t i)
{
    const char *t = s->t, *q;
    size_t vs = i + 2, hi = s->n - vs > ODBC_BRACED_MAX ? vs + ODBC_BRACED_MAX : s->n, k = vs;

    if (i == 0 || !odbc_password_key(s, i, 1))
        return 0;
    /* the value ends at the first '}' not doubled ("}}" stands for '}') */
    for (q = NULL; k < hi && (q = memchr(t + k, '}', hi - k)) != NULL; q = NULL) {
        k = (size_t)(q - t);
        if (k + 1 >= s->n || t[k + 1] != '}')
            break;
        k += 2;
    }
    if (q == NULL || k == vs || memchr(t + vs, '\n', k - vs) != NULL)
        return 0;
    /* Pwd= after a ';', or first in a string the next keyword follows:
     * not code assigning a block or a dict to a pwd */
    if ((k + 1 >= s->n || t[k + 1] != ';') && !odbc_password_key(s, i, 0))
        return 0;
    if (!password_ok(t + vs, k - vs) ||
        !(secret_text_generic_ok(t + vs, k - vs, 1) || secret_text_password_ok(t + vs, k - vs, 1) ||
          braced_phrase(t + vs, k - vs)))
        return 0;
    scan_add(s, vs, k, K_CONN_PASSWORD, 0);
    return k + 1;
}

static int is_oracle_ident(unsigned char c)
{
    return ascii_is_alnum_us(c) || c == '$' || c == '#';
}

void secret_conn_jdbc_oracle_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, u, p;

    if (i < 11 || memcmp(t + i - 11, "jdbc:oracle", 11) != 0)
        return;
    if (scan_has(s, i + 1, "thin:", 5))
        k = i + 6;
    else if (scan_has(s, i + 1, "oci:", 4))
        k = i + 5;
    else
        return;
    u = scan_run_len(s, k, is_oracle_ident, ORACLE_USER_MAX);
    if (u == 0 || u > ORACLE_USER_MAX || !scan_has(s, k + u, "/", 1))
        return;
    k += u + 1;
    for (p = k; p < s->n && p - k < DSN_USERINFO_MAX && !ends_userinfo((unsigned char)t[p]); p++)
        ;
    /* the address: host:port/..., host:port:SID, //host... or (DESCRIPTION=...) */
    if (p + 1 >= s->n || t[p] != '@' ||
        !(is_host_char((unsigned char)t[p + 1]) || t[p + 1] == '/' || t[p + 1] == '('))
        return;
    if (password_ok(t + k, p - k))
        scan_add(s, k, p, K_CONN_PASSWORD, 0);
}
