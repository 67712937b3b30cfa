/* secret_text.c - entropy and name/value heuristics for the secret rules;
 * see secret_text.h. The thresholds are explained with the generic_secret
 * rule at the top of secret_rules.c. Stand-ins (changeme, ${X}) are
 * secret_placeholder.c's.
 */
#include "worker/secret_text.h"

#include <string.h>

#include "worker/ascii.h"
#include "worker/secret_scan.h"

/* Shortest generic secret, bytes. */
#define GENERIC_MIN_LEN SECRET_VALUE_MIN
/* Shannon entropy a generic secret needs, bits per byte (8 distinct bytes
 * of 8 give exactly 3.0). */
#define GENERIC_MIN_BITS 3.0
/* The same under a name that says password: the passwords people choose
 * repeat a letter or digit (Passw0rd! 2.95, Summer2024 2.92, Welcome1!
 * 2.95); "aaaa1111" (1.0) is still a stand-in. */
#define PASSWORD_MIN_BITS 2.5
/* Bytes of a base64 key that starts with '/', at least, and bytes per
 * slash in it, at least (base64_not_path). */
#define B64_PATH_MIN 16
#define B64_BYTES_PER_SLASH 11
/* Words of a passphrase, at least, and letters of each word. */
#define PASSPHRASE_WORDS_MIN 4
#define PASSPHRASE_WORD_MIN 3

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
/* How many of lower case, upper case and digits v[0..n) holds, 0..3. */
static int case_digit_classes(const char *v, size_t n)
{
    int lo = 0, up = 0, di = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        lo |= ascii_is_lower((unsigned char)v[i]);
        up |= ascii_is_upper((unsigned char)v[i]);
        di |= ascii_is_digit((unsigned char)v[i]);
    }
    return lo + up + di;
}

int secret_text_mixed_case_digit(const char *v, size_t n)
{
    return case_digit_classes(v, n) == 3;
}

int secret_text_two_classes(const char *v, size_t n)
{
    return case_digit_classes(v, n) >= 2;
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

/* 1 when a name whose last word is last (lower case) says password:
 * password, db_passwd, PWD, SSH_KEY_PASSPHRASE, smtp_pass, storepass. */
static int name_says_password(const char *last)
{
    return ends(last, "password") || ends(last, "passwd") || ends(last, "pwd") ||
           ends(last, "passphrase") || strcmp(last, "pass") == 0 || ends(last, "storepass") ||
           ends(last, "keypass");
}

/* 1 when a name whose last two words are prev and last (lower case) names
 * a secret: db_password, apiKey, x-api-key, client_secret, GITHUB_TOKEN,
 * Authorization, Ocp-Apim-Subscription-Key, a sessionid or PHPSESSID
 * cookie, keytool's storepass and keypass. The last word decides, so token_url, password_hash,
 * private_key_path and PASSWORD_MIN_LENGTH are not secrets. */
static int name_listed(const char *prev, const char *last)
{
    static const char *const tails[] = {
        "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey",
        "accesskey", "privatekey", "secretkey", "authkey", "auth", "authorization",
        "credential", "credentials", "sessionid", "sessid", "storepass", "keypass", NULL,
    };
    static const char *const key_owners[] = {
        "api", "access", "private", "secret", "auth", "master", "signing", "encryption",
        "client", "app", "subscription", NULL,
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

/* 1 when the name starting at t[ns] is a URL's query parameter (after '?'
 * or '&'): there a bare key= (Google Maps, YouTube, many REST APIs) or
 * appid= (OpenWeatherMap) is the caller's credential, while a key in code
 * (key = "user_id", sorted(xs, key=len)) is an identifier. */
static int query_parameter(const char *t, size_t ns)
{
    return ns > 0 && (t[ns - 1] == '?' || t[ns - 1] == '&');
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
    if (name_listed(prev, last) || (query_parameter(t, ns) && prev[0] == '\0' &&
                                    (strcmp(last, "key") == 0 || strcmp(last, "appid") == 0)))
        f |= SECRET_NAME_LISTED;
    /* Rails' and Phoenix's signing key: base alone (cache_key_base) says
     * nothing, a secret key base does */
    if (strcmp(last, "base") == 0 && strcmp(prev, "key") == 0 && strstr(all, "secret") != NULL)
        f |= SECRET_NAME_LISTED;
    if (name_says_password(last))
        f |= SECRET_NAME_PASSWORD;
    if (strstr(all, "secret") != NULL)
        f |= SECRET_NAME_SECRET;
    if (strstr(all, "razorpay") != NULL)
        f |= SECRET_NAME_RAZORPAY;
    if (strstr(all, "secretaccesskey") != NULL ||
        (strstr(all, "aws") != NULL && (f & SECRET_NAME_SECRET) != 0))
        f |= SECRET_NAME_AWS;
    return f;
}

/* Bytes of one word of a value looked at by value_names_secret. */
#define VALUE_WORD_MAX 24

/* 1 when a value names a secret rather than being one: it is made of words
 * (letters, split at [_.:/|-] and camelCase humps, as names are) of which
 * one is a word naming a secret ("userPassword", "auth-psk",
 * "id-regCtrl-regToken", "X-API-Key"), or all are literals ("true|false",
 * "None"). Only whole words count: "Monkey2024!", "Whiskey#Tango42",
 * "Authentic-Lion-77" and the "kEy" of "r8TkEyZ2pQ7" are passwords. A digit
 * inside a word may stand (oauth2Token), one ending the value may not
 * ("Password123" is a password), nor any other symbol. */
static int value_names_secret(const char *v, size_t n)
{
    static const char *const names[] = {
        "password", "passwords", "passwd", "passphrase", "pwd", "pass", "secret", "secrets",
        "token", "tokens", "auth", "oauth", "authorization", "authentication", "apikey", "key",
        "keys", "credential", "credentials", "psk", NULL,
    };
    static const char *const literals[] = {"true", "false", "null", "none", "nil", NULL};
    char w[VALUE_WORD_MAX + 1];
    size_t i, wn = 0;
    int named = 0, all_literal = 1, too_long = 0;

    if (n == 0 || !ascii_is_alpha((unsigned char)v[n - 1]))
        return 0;
    for (i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)v[i] : '\0';
        int split = !ascii_is_alpha(c) ||
                    (wn > 0 && ascii_is_upper(c) &&
                     (ascii_is_lower((unsigned char)v[i - 1]) ||
                      (i + 1 < n && ascii_is_lower((unsigned char)v[i + 1]))));

        if (i < n && !ascii_is_alnum(c) && !ascii_in_set((char)c, "_.:/|-"))
            return 0;      /* a symbol: not a label */
        if (split && (wn > 0 || too_long)) {
            w[wn] = '\0';
            named |= !too_long && word_in(w, names);
            all_literal &= !too_long && word_in(w, literals);
            wn = 0;
            too_long = 0;
        }
        if (ascii_is_alpha(c)) {
            if (wn < VALUE_WORD_MAX)
                w[wn++] = (char)ascii_lower(c);
            else
                too_long = 1;
        }
    }
    return named || all_literal;
}

/* 1 when v is a PowerShell cmdlet's name, Verb-Noun with one of the
 * common verbs (Read-Host, ConvertTo-SecureString, Get-Content): a call,
 * not a value ($password = Read-Host -AsSecureString). */
static int powershell_cmdlet(const char *v, size_t n)
{
    static const char *const verbs[] = {
        "get-", "set-", "new-", "read-", "convertto-", "convertfrom-", "import-", "export-",
        "invoke-", "select-", "out-", NULL,
    };
    size_t w, i, len;

    for (w = 0; verbs[w] != NULL; w++) {
        len = strlen(verbs[w]);
        if (n <= len || !scan_prefix_ci(v, n, verbs[w]) || !ascii_is_upper((unsigned char)v[0]) ||
            !ascii_is_upper((unsigned char)v[len]))
            continue;
        for (i = len; i < n && ascii_is_alpha((unsigned char)v[i]); i++)
            ;
        return i == n;
    }
    return 0;
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

/* 1 when v, which starts with '/', is base64 data (one key in 64 starts
 * so: openssl rand -base64 32, Fernet and HMAC keys) rather than a path:
 * B64_PATH_MIN bytes or more, all of the base64 alphabet with '=' only as
 * the last one or two, capitals, small letters and digits, and few slashes
 * (one in B64_BYTES_PER_SLASH bytes at most: /usr/local/bin has three in
 * 14, a random key about one in 64). */
static int base64_not_path(const char *v, size_t n)
{
    size_t i, slashes = 0, pad = 0;

    if (n < B64_PATH_MIN)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0 || !(ascii_is_alnum(c) || c == '+' || c == '/'))
            return 0;
        slashes += c == '/';
    }
    return pad <= 2 && slashes * B64_BYTES_PER_SLASH <= n && secret_text_mixed_case_digit(v, n);
}

/* 1 when v passes the generic secret filters with an entropy floor of
 * min_bits bits per byte. */
static int value_ok(const char *v, size_t n, int quoted, double min_bits)
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
        other += !ascii_is_lower(c) && !ascii_in_set((char)c, "-_.:");
    }
    if (other == 0)
        return 0;      /* lower-case words: "always-impersonate", "subscriptions:active" */
    if (memmem(v, n, "://", 3) != NULL)
        return 0;      /* a URL; its credentials have their own rule */
    if ((v[0] == '/' && !base64_not_path(v, n)) || pre(v, n, "./") || pre(v, n, "../") ||
        pre(v, n, "~/") ||
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
        if (powershell_cmdlet(v, n))
            return 0;
    }
    return char_classes(v, n) >= 2 && secret_text_entropy(v, n) >= min_bits - 1e-9;
}

/* 1 when an assigned value passes the generic secret filters. */
int secret_text_generic_ok(const char *v, size_t n, int quoted)
{
    return value_ok(v, n, quoted, GENERIC_MIN_BITS);
}

/* 1 when v is a passphrase: PASSPHRASE_WORDS_MIN or more words of
 * PASSPHRASE_WORD_MIN or more letters, one blank between them ("correct
 * horse battery staple"), none of them a word of prose ("must contain
 * three letters", "Enter the new one") or naming a secret. */
static int passphrase(const char *v, size_t n)
{
    static const char *const prose[] = {
        "the", "and", "for", "with", "not", "are", "was", "were", "has", "have", "this",
        "that", "must", "should", "can", "will", "enter", "please", "type", "invalid",
        "incorrect", "wrong", "required", "missing", "least", "characters", "letters",
        "match", "matches", "blank", "empty", "short", "long", "too", "new", "old", "user",
        "here", "value", "field", NULL,
    };
    char w[VALUE_WORD_MAX + 1];
    size_t i, wn = 0, words = 0;

    if (n < GENERIC_MIN_LEN || n > SECRET_VALUE_MAX || value_names_secret(v, n))
        return 0;
    for (i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)v[i] : ' ';

        if (c == ' ') {
            w[wn] = '\0';
            if (wn < PASSPHRASE_WORD_MIN || word_in(w, prose))
                return 0;  /* a short word, two blanks, a blank at an end, prose */
            words++;
            wn = 0;
        } else if (!ascii_is_alpha(c) || wn == VALUE_WORD_MAX) {
            return 0;
        } else {
            w[wn++] = (char)ascii_lower(c);
        }
    }
    return words >= PASSPHRASE_WORDS_MIN;
}

/* 1 when an assigned value under a password name is a password. The lower
 * entropy floor needs a letter and a digit or symbol: digits and dots are
 * a version ('Pass' => '1.302138' in Perl's CoreList), a date or an
 * address; one capitalised word ("Required", "Hidden") a setting. */
int secret_text_password_ok(const char *v, size_t n, int quoted)
{
    size_t i, letters = 0;

    for (i = 0; i < n; i++)
        letters += ascii_is_alpha((unsigned char)v[i]);
    if (letters > 0 && letters < n && value_ok(v, n, quoted, PASSWORD_MIN_BITS))
        return 1;
    return quoted && passphrase(v, n);
}
