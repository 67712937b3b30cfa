/* secret_text.c - entropy and name/value heuristics for the secret rules;
 * see secret_text.h. The thresholds are explained with the generic_secret
 * rule at the top of secret_rules.c.
 */
#include "worker/secret_text.h"

#include <string.h>

#include "worker/ascii.h"

/* Shortest generic secret, bytes. */
#define GENERIC_MIN_LEN 8
/* Shannon entropy a generic secret needs, bits per byte (8 distinct bytes
 * of 8 give exactly 3.0). */
#define GENERIC_MIN_BITS 3.0

/* A lower-case copy of a value's first SECRET_VALUE_MAX bytes, for word tests. */
struct folded {
    char b[SECRET_VALUE_MAX];
    size_t n;
};

static void fold(struct folded *f, const char *v, size_t n)
{
    size_t i;

    f->n = n < sizeof(f->b) ? n : sizeof(f->b);
    for (i = 0; i < f->n; i++)
        f->b[i] = (char)ascii_lower((unsigned char)v[i]);
}

/* 1 when f holds any of the NULL-terminated words (lower case). */
static int folded_has_any(const struct folded *f, const char *const *words)
{
    size_t i, j, len;

    /* Plain search: the haystacks are short, so glibc memmem's table
     * set-up would cost more than the scan. */
    for (i = 0; words[i] != NULL; i++) {
        len = strlen(words[i]);
        for (j = 0; j + len <= f->n; j++)
            if (f->b[j] == words[i][0] && memcmp(f->b + j, words[i], len) == 0)
                return 1;
    }
    return 0;
}

/* log2(x) for x >= 1 without libm: exponent plus the atanh series of the
 * mantissa in [1, 2), good to about 1e-10. */
static double log2_u(unsigned x)
{
    double m = x, z, z2, term, sum = 0.0;
    int e = 0, k;

    while (m >= 2.0) {
        m /= 2.0;
        e++;
    }
    z = (m - 1.0) / (m + 1.0);
    z2 = z * z;
    term = z;
    for (k = 1; k <= 21; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return e + 2.0 * sum / 0.69314718055994530942;
}

/* Shannon entropy of v[0..n), bits per byte; 0 when n > SECRET_VALUE_MAX. */
double secret_text_entropy(const char *v, size_t n)
{
    unsigned short counts[256];
    double acc = 0.0;
    size_t i;

    if (n == 0 || n > SECRET_VALUE_MAX)
        return 0.0;
    memset(counts, 0, sizeof(counts));
    for (i = 0; i < n; i++)
        counts[(unsigned char)v[i]]++;
    /* Each distinct byte once: its count is reset after use. */
    for (i = 0; i < n; i++) {
        unsigned c = counts[(unsigned char)v[i]];

        if (c > 1)
            acc += c * log2_u(c);
        counts[(unsigned char)v[i]] = 0;
    }
    return log2_u((unsigned)n) - acc / (double)n;
}

/* Number of classes (lower, upper, digit, other) present in v[0..n). */
static int char_classes(const char *v, size_t n)
{
    int lo = 0, up = 0, di = 0, ot = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (ascii_is_lower(c))
            lo = 1;
        else if (ascii_is_upper(c))
            up = 1;
        else if (ascii_is_digit(c))
            di = 1;
        else
            ot = 1;
    }
    return lo + up + di + ot;
}

/* 1 when v has upper case, lower case and a digit. */
int secret_text_mixed_case_digit(const char *v, size_t n)
{
    int lo = 0, up = 0, di = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        lo |= ascii_is_lower((unsigned char)v[i]);
        up |= ascii_is_upper((unsigned char)v[i]);
        di |= ascii_is_digit((unsigned char)v[i]);
    }
    return lo && up && di;
}

/* 1 when more than half of v[0..n) is one byte value: ghp_xxxx..., ****
 * (Boyer-Moore majority vote: no table, two passes). */
int secret_text_mostly_one_byte(const char *v, size_t n)
{
    size_t i, votes = 0, count = 0;
    char cand = 0;

    for (i = 0; i < n; i++) {
        if (votes == 0) {
            cand = v[i];
            votes = 1;
        } else {
            votes += v[i] == cand ? 1 : (size_t)-1;
        }
    }
    for (i = 0; i < n; i++)
        count += v[i] == cand;
    return n > 0 && count * 2 > n;
}

/* 1 when v looks like a stand-in rather than a credential. */
int secret_text_is_placeholder(const char *v, size_t n)
{
    static const char *const words[] = {
        "changeme", "change_me", "change-me", "placeholder", "your", "example",
        "dummy", "sample", "replace", "redacted", "xxx", "***", "...", "todo",
        "fixme", "insert", "%s", "%(", NULL,
    };
    struct folded f;
    size_t i;

    if (n == 0 || secret_text_mostly_one_byte(v, n))
        return 1;
    if (v[0] == '$' || v[0] == '%')
        return 1;              /* $VAR, ${VAR}, %s */
    for (i = 0; i + 1 < n; i++)
        if (v[i] == '$' &&
            (v[i + 1] == '(' ||
             (i + 3 < n && (ascii_is_upper((unsigned char)v[i + 1]) || v[i + 1] == '_') &&
              ascii_is_upper_digit_us((unsigned char)v[i + 2]) &&
              ascii_is_upper_digit_us((unsigned char)v[i + 3]))))
            return 1;          /* "user:$(cat f)", "-auth=x:$FROM_EMAIL" */
    for (i = 0; i < n; i++)
        if (v[i] == '<' || v[i] == '>' || v[i] == '{' || v[i] == '}')
            return 1;          /* <your-key>, {{ var }}, f"{x}" */
    fold(&f, v, n);
    return folded_has_any(&f, words);
}

/* 1 when nm (pn bytes) begins with lit. */
static int pre(const char *nm, size_t pn, const char *lit)
{
    size_t len = strlen(lit);

    return len <= pn && memcmp(nm, lit, len) == 0;
}

/* 1 when the NUL-terminated word w ends with lit. */
static int ends(const char *w, const char *lit)
{
    size_t n = strlen(w), len = strlen(lit);

    return len <= n && memcmp(w + n - len, lit, len) == 0;
}

static int word_in(const char *w, const char *const *set)
{
    size_t i;

    for (i = 0; set[i] != NULL; i++)
        if (strcmp(w, set[i]) == 0)
            return 1;
    return 0;
}

/* 1 when a name whose last two words are prev and last (lower case) names
 * a secret: db_password, apiKey, x-api-key, client_secret, GITHUB_TOKEN,
 * Authorization. The last word decides, so token_url, password_hash,
 * private_key_path and PASSWORD_MIN_LENGTH are not secrets. */
static int name_listed(const char *prev, const char *last)
{
    static const char *const tails[] = {
        "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
        "accesskey", "privatekey", "secretkey", "authkey", "auth", "authorization",
        "credential", "credentials", NULL,
    };
    static const char *const key_owners[] = {
        "api", "access", "private", "secret", "auth", "master", "signing", "encryption",
        "client", "app", NULL,
    };
    size_t i;

    for (i = 0; tails[i] != NULL; i++)
        if (ends(last, tails[i]))
            return 1;
    if (strcmp(last, "pass") == 0)
        return 1;
    if (strcmp(last, "key") == 0 && word_in(prev, key_owners))
        return 1;
    return strcmp(last, "id") == 0 && strcmp(prev, "secret") == 0;  /* Vault */
}

/* SECRET_NAME_* flags for the name t[ns..ne). Words are split at anything but
 * letters and at camelCase humps (HTTPAuthToken: http auth token). */
unsigned secret_text_name_flags(const char *t, size_t ns, size_t ne)
{
    char all[SECRET_NAME_MAX + 1], prev[32] = "", last[32] = "", cur[32];
    size_t k, an = 0, cn = 0;
    unsigned f = 0;
    int too_long = 0;

    for (k = ns; k <= ne; k++) {
        unsigned char c = k < ne ? (unsigned char)t[k] : '\0';
        unsigned char nx = k + 1 < ne ? (unsigned char)t[k + 1] : '\0';
        int split = !ascii_is_alpha(c) ||
                    (cn > 0 && ascii_is_upper(c) &&
                     (ascii_is_lower((unsigned char)t[k - 1]) || ascii_is_lower(nx)));

        if (split && (cn > 0 || too_long)) {
            cur[cn] = '\0';
            memcpy(prev, last, sizeof(prev));
            if (too_long)
                last[0] = '\0';
            else
                memcpy(last, cur, cn + 1);
            cn = 0;
            too_long = 0;
        }
        if (ascii_is_alpha(c)) {
            if (cn + 1 < sizeof(cur))
                cur[cn++] = (char)ascii_lower(c);
            else
                too_long = 1;
        }
        if (ascii_is_alnum(c) && an < SECRET_NAME_MAX)
            all[an++] = (char)ascii_lower(c);
    }
    all[an] = '\0';
    if (name_listed(prev, last))
        f |= SECRET_NAME_LISTED;
    if (strstr(all, "secret") != NULL)
        f |= SECRET_NAME_SECRET;
    if (strstr(all, "razorpay") != NULL)
        f |= SECRET_NAME_RAZORPAY;
    if (strstr(all, "secretaccesskey") != NULL ||
        (strstr(all, "aws") != NULL && (f & SECRET_NAME_SECRET) != 0))
        f |= SECRET_NAME_AWS;
    return f;
}

/* 1 when a value names a secret rather than being one: "userPassword",
 * "auth-psk", "id-regCtrl-regToken" (labels, field names), or is a literal
 * or a list of them ("true|false"). */
static int value_names_secret(const char *v, size_t n)
{
    static const char *const words[] = {
        "password", "passwd", "passphrase", "pwd", "secret", "token", "auth", "apikey",
        "api_key", "api-key", "key", "credential", "true", "false", "null", "none", NULL,
    };
    struct folded f;

    fold(&f, v, n);
    return folded_has_any(&f, words);
}

/* 1 when v is an identifier or a dotted path of them; *dotted set. */
static int identifier_shaped(const char *v, size_t n, int *dotted)
{
    size_t i;

    *dotted = 0;
    if (n == 0 || !(ascii_is_alpha((unsigned char)v[0]) || v[0] == '_'))
        return 0;
    for (i = 0; i < n; i++) {
        if (v[i] == '.')
            *dotted = 1;
        else if (!ascii_is_alnum_us((unsigned char)v[i]))
            return 0;
    }
    return 1;
}

/* 1 when an assigned value passes the generic secret filters. */
int secret_text_generic_ok(const char *v, size_t n, int quoted)
{
    size_t i, digits = 0, other = 0;
    int dotted;

    if (n < GENERIC_MIN_LEN || n > SECRET_VALUE_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c <= ' ' || c == 0x7f)
            return 0;  /* prose, or not a single value */
        digits += ascii_is_digit(c);
        other += !ascii_is_lower(c) && c != '-' && c != '_' && c != '.';
    }
    if (other == 0)
        return 0;      /* lower-case words: "always-impersonate", "grant_type" */
    if (memmem(v, n, "://", 3) != NULL)
        return 0;      /* a URL; its credentials have their own rule */
    if (v[0] == '/' || pre(v, n, "./") || pre(v, n, "../") || pre(v, n, "~/") ||
        (n > 2 && ascii_is_alpha((unsigned char)v[0]) && v[1] == ':' &&
         (v[2] == '\\' || v[2] == '/')))
        return 0;      /* a path */
    if (pre(v, n, "pk_live_") || pre(v, n, "pk_test_"))
        return 0;      /* Stripe publishable keys are public */
    if (value_names_secret(v, n))
        return 0;
    if (!quoted) {
        for (i = 0; i < n; i++)
            if (ascii_in_set(v[i], "()[]{}<>"))
                return 0;  /* a call or a subscript: code */
        if (ascii_in_set(v[0], "$@%&*!"))
            return 0;      /* a reference, a decorator, a pointer */
        if (identifier_shaped(v, n, &dotted) && (dotted || digits < 2))
            return 0;      /* a variable, not a literal */
    }
    return char_classes(v, n) >= 2 && secret_text_entropy(v, n) >= GENERIC_MIN_BITS - 1e-9;
}

