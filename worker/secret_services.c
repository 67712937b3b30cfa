/* secret_services.c - the rules for services' API tokens of a shape of
 * their own; see secret_services.h. The rules are described in the table
 * at the top of secret_rules.c.
 */
#include "worker/secret_services.h"

#include <string.h>

#include "worker/secret_text.h"

/* Bytes of a service token's body, at most, for the open-ended ones. */
#define SERVICE_TOKEN_MAX 255
/* Bytes of a Grafana Cloud token's body (base64 of a JSON object). */
#define GRAFANA_CLOUD_MAX 400
/* Bytes of a Doppler service token's config slug (dp.st.SLUG.TOKEN). */
#define DOPPLER_SLUG_MAX 64
/* Bits per byte of a random body (SV_RANDOM): 43 random alphanumerics
 * carry 4.4 or more in 999 draws of 1,000 (4.8 typically), a camelCase
 * identifier as long about 4.2. */
#define SERVICE_RANDOM_BITS 4.4
/* Bytes of a Sentry organisation token's first part (base64 of a JSON
 * object after "eyJ"), at least and at most. */
#define SENTRY_ORG_MIN 60
#define SENTRY_ORG_MAX 400
/* Bytes of a 1Password service account token's body (base64 of a JSON
 * object after "eyJ": 850 or so), at least and at most. */
#define ONEPASSWORD_MIN 250
#define ONEPASSWORD_MAX 2048
/* Bytes of a PlanetScale token's body, at least and at most. */
#define PLANETSCALE_MIN 32
#define PLANETSCALE_MAX 64
/* Bytes looked at before a Mailgun key of hex only for the service's name. */
#define SERVICE_NAME_BACK 256
#define MAILGUN_NAME "mailgun"
/* Bytes of a Mailchimp key's hex part, before -us<N>. */
#define MAILCHIMP_HEX_LEN 32
/* Hex digits of a New Relic license key before its "NRAL" suffix. */
#define NEW_RELIC_LICENSE_HEX_LEN 36
/* Digits of a Telegram bot's id, at least and at most. */
#define TELEGRAM_ID_MIN 6
#define TELEGRAM_ID_MAX 12
/* Bytes of a Telegram bot token after the ':' ("AA" and 33 more). */
#define TELEGRAM_SECRET_LEN 35

/* What a token's body must hold besides its bytes. */
#define SV_CLASSES  0x1u    /* two of upper case, lower case and digits */
#define SV_MIXED    0x2u    /* upper case, lower case and a digit */
#define SV_ALONE    0x4u    /* no '.' before the prefix either: key- and
                               secret_ end names in code (obj.key-...) */
#define SV_PAD      0x8u    /* base64 '=' padding, up to two, may follow */
#define SV_SLUG     0x10u   /* a [a-z0-9_-] slug and a '.' may precede the
                               body (Doppler's dp.st.prd.TOKEN) */
#define SV_DIGIT    0x20u   /* "-N", one digit, may follow (Databricks) */
#define SV_RANDOM   0x40u   /* entropy of a random string, not a long
                               identifier's (secret_ + 43) */
#define SV_NAMED    0x80u   /* a body of hex only (a digest's shape:
                               key-<md5> in a cache key or a file name)
                               counts only with "mailgun" within
                               SERVICE_NAME_BACK bytes before it */

static int is_hex(unsigned char c)
{
    return ascii_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_lower_digit(unsigned char c) { return ascii_is_lower(c) || ascii_is_digit(c); }

static int is_b64_std(unsigned char c) { return ascii_is_alnum(c) || c == '+' || c == '/'; }

/* bech32's upper-case alphabet: no 1, B, I or O */
static int is_bech32_upper(unsigned char c)
{
    return (ascii_is_upper_digit(c) && c != '1' && c != 'B' && c != 'I' && c != 'O');
}

static int is_pscale(unsigned char c) { return is_b64url(c) || c == '.' || c == '='; }

static int is_slug(unsigned char c)
{
    return ascii_is_lower(c) || ascii_is_digit(c) || c == '_' || c == '-';
}

struct service_token {
    const char *prefix;
    byte_pred pred;          /* every byte of the body */
    size_t min, max;         /* bytes of the body */
    char sep;                /* a second part follows after sep, else 0 */
    byte_pred pred2;         /* every byte of the second part */
    size_t len2;             /* bytes of the second part, exactly */
    unsigned flags;          /* SV_* */
    int kind;
};

/* Sorted by their first two bytes (find_prefix). */
static const struct service_token services[] = {
    /* age's X25519 identities: bech32, upper case */
    {"AGE-SECRET-KEY-1", is_bech32_upper, 58, 58, 0, NULL, 0, SV_CLASSES, K_AGE},
    /* Atlassian API tokens: ATATT3, base64url, '=' and an 8-digit checksum */
    {"ATATT3", is_b64url, 150, 300, '=', is_hex, 8, SV_CLASSES, K_ATLASSIAN},
    /* GitLab runner registration tokens (the legacy ones) */
    {"GR1348941", is_b64url, 20, SERVICE_TOKEN_MAX, 0, NULL, 0, SV_CLASSES, K_GITLAB},
    /* Heroku: a UUID (36) or AA and 58 */
    {"HRKU-", is_b64url, 36, SERVICE_TOKEN_MAX, 0, NULL, 0, SV_CLASSES, K_HEROKU},
    /* New Relic: user keys, insert keys, browser keys */
    {"NRAK-", ascii_is_upper_digit, 27, 27, 0, NULL, 0, SV_CLASSES, K_NEW_RELIC},
    {"NRII-", is_b64url, 32, 32, 0, NULL, 0, SV_CLASSES, K_NEW_RELIC},
    {"NRJS-", is_hex_lower, 19, 19, 0, NULL, 0, SV_CLASSES, K_NEW_RELIC},
    {"PMAK-", is_hex, 24, 24, '-', is_hex, 34, SV_CLASSES, K_POSTMAN},
    {"dapi", is_hex_lower, 32, 32, 0, NULL, 0, SV_CLASSES | SV_DIGIT, K_DATABRICKS},
    {"doo_v1_", is_hex_lower, 64, 64, 0, NULL, 0, SV_CLASSES, K_DIGITALOCEAN},
    {"dop_v1_", is_hex_lower, 64, 64, 0, NULL, 0, SV_CLASSES, K_DIGITALOCEAN},
    {"dor_v1_", is_hex_lower, 64, 64, 0, NULL, 0, SV_CLASSES, K_DIGITALOCEAN},
    {"dp.audit.", ascii_is_alnum, 40, 64, 0, NULL, 0, SV_CLASSES, K_DOPPLER},
    {"dp.ct.", ascii_is_alnum, 40, 64, 0, NULL, 0, SV_CLASSES, K_DOPPLER},
    {"dp.pt.", ascii_is_alnum, 40, 64, 0, NULL, 0, SV_CLASSES, K_DOPPLER},
    {"dp.sa.", ascii_is_alnum, 40, 64, 0, NULL, 0, SV_CLASSES, K_DOPPLER},
    {"dp.scim.", ascii_is_alnum, 40, 64, 0, NULL, 0, SV_CLASSES, K_DOPPLER},
    {"dp.st.", ascii_is_alnum, 40, 64, 0, NULL, 0, SV_CLASSES | SV_SLUG, K_DOPPLER},
    {"glc_", is_b64_std, 32, GRAFANA_CLOUD_MAX, 0, NULL, 0, SV_CLASSES | SV_PAD, K_GRAFANA},
    {"glsa_", ascii_is_alnum, 32, 32, '_', is_hex, 8, SV_CLASSES, K_GRAFANA},
    {"key-", is_lower_digit, 32, 32, 0, NULL, 0, SV_CLASSES | SV_ALONE | SV_NAMED, K_MAILGUN},
    {"lin_api_", ascii_is_alnum, 40, 40, 0, NULL, 0, SV_CLASSES, K_LINEAR},
    {"npm_", ascii_is_alnum, 36, 36, 0, NULL, 0, SV_CLASSES, K_NPM},
    {"ntn_", ascii_is_alnum, 46, 46, 0, NULL, 0, SV_CLASSES, K_NOTION},
    /* 1Password service accounts: base64 of a JSON object */
    {"ops_eyJ", is_b64_std, ONEPASSWORD_MIN, ONEPASSWORD_MAX, 0, NULL, 0, SV_CLASSES | SV_PAD,
     K_ONEPASSWORD},
    {"pscale_oauth_", is_pscale, PLANETSCALE_MIN, PLANETSCALE_MAX, 0, NULL, 0, SV_CLASSES,
     K_PLANETSCALE},
    {"pscale_pw_", is_pscale, PLANETSCALE_MIN, PLANETSCALE_MAX, 0, NULL, 0, SV_CLASSES,
     K_PLANETSCALE},
    {"pscale_tkn_", is_pscale, PLANETSCALE_MIN, PLANETSCALE_MAX, 0, NULL, 0, SV_CLASSES,
     K_PLANETSCALE},
    {"pul-", is_hex_lower, 40, 40, 0, NULL, 0, SV_CLASSES, K_PULUMI},
    {"rubygems_", is_hex_lower, 48, 48, 0, NULL, 0, SV_CLASSES, K_RUBYGEMS},
    {"secret_", ascii_is_alnum, 43, 43, 0, NULL, 0, SV_MIXED | SV_ALONE | SV_RANDOM,
     K_NOTION},
    /* OpenShift's OAuth access tokens */
    {"sha256~", is_b64url, 43, 43, 0, NULL, 0, SV_CLASSES, K_OPENSHIFT},
    {"shpat_", is_hex, 32, 32, 0, NULL, 0, SV_CLASSES, K_SHOPIFY},
    {"shpca_", is_hex, 32, 32, 0, NULL, 0, SV_CLASSES, K_SHOPIFY},
    {"shppa_", is_hex, 32, 32, 0, NULL, 0, SV_CLASSES, K_SHOPIFY},
    {"shpss_", is_hex, 32, 32, 0, NULL, 0, SV_CLASSES, K_SHOPIFY},
    /* Sentry: organisation tokens (base64 of a JSON object, padded, '_'
     * and 43 base64) and user tokens */
    {"sntrys_eyJ", is_b64_std, SENTRY_ORG_MIN, SENTRY_ORG_MAX, '_', is_b64_std, 43,
     SV_CLASSES | SV_PAD, K_SENTRY},
    {"sntryu_", is_hex_lower, 64, 64, 0, NULL, 0, SV_CLASSES, K_SENTRY},
};

#define SERVICES_N (sizeof(services) / sizeof(services[0]))

static unsigned pair_key(char c0, char c1)
{
    return (unsigned)(unsigned char)c0 << 8 | (unsigned char)c1;
}

/* Index of the first token whose prefix starts with c0 c1, or SERVICES_N. */
static size_t find_prefix(char c0, char c1)
{
    unsigned k = pair_key(c0, c1);
    size_t lo = 0, hi = SERVICES_N, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (pair_key(services[mid].prefix[0], services[mid].prefix[1]) < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < SERVICES_N && pair_key(services[lo].prefix[0], services[lo].prefix[1]) == k
               ? lo
               : SERVICES_N;
}

/* 1 when name (lower case) stands, any case, within SERVICE_NAME_BACK
 * bytes before t[k]. */
static int named_before(const struct scan *s, size_t k, const char *name)
{
    size_t n = strlen(name), p = k > SERVICE_NAME_BACK ? k - SERVICE_NAME_BACK : 0;

    for (; p + n <= k; p++)
        if (ascii_lower((unsigned char)s->t[p]) == (unsigned char)name[0] &&
            scan_prefix_ci(s->t + p, n, name))
            return 1;
    return 0;
}

/* The body of token tk at t[k]: returns the offset past it (and its second
 * part, padding, suffix), or 0 when it is not there. */
static size_t body(const struct scan *s, const struct service_token *tk, size_t k)
{
    const char *t = s->t;
    size_t r, b = k, e;

    if ((tk->flags & SV_SLUG) != 0) {
        r = scan_run_len(s, k, is_slug, DOPPLER_SLUG_MAX);
        if (r > 0 && r <= DOPPLER_SLUG_MAX && k + r < s->n && t[k + r] == '.')
            b = k + r + 1;
    }
    r = scan_run_len(s, b, tk->pred, tk->max);
    if (r < tk->min || r > tk->max || secret_text_mostly_one_byte(t + b, r) ||
        ((tk->flags & SV_CLASSES) != 0 && !secret_text_two_classes(t + b, r)) ||
        ((tk->flags & SV_MIXED) != 0 && !secret_text_mixed_case_digit(t + b, r)) ||
        ((tk->flags & SV_RANDOM) != 0 && secret_text_entropy(t + b, r) < SERVICE_RANDOM_BITS))
        return 0;
    if ((tk->flags & SV_NAMED) != 0 && scan_run_len(s, b, is_hex_lower, r) == r &&
        !named_before(s, k, MAILGUN_NAME))
        return 0;
    e = b + r;
    if ((tk->flags & SV_PAD) != 0)
        for (r = 0; r < 2 && e < s->n && t[e] == '='; r++)
            e++;
    if (tk->sep != 0) {
        if (e >= s->n || t[e] != tk->sep || scan_run_len(s, e + 1, tk->pred2, tk->len2) != tk->len2)
            return 0;
        e += 1 + tk->len2;
    }
    if ((tk->flags & SV_DIGIT) != 0 && e + 1 < s->n && t[e] == '-' &&
        ascii_is_digit((unsigned char)t[e + 1]) &&
        (e + 2 >= s->n || !is_b64url((unsigned char)t[e + 2])))
        e += 2;
    /* the token ends there: a longer run is something else */
    if (e < s->n && (is_b64url((unsigned char)t[e]) || ((tk->flags & SV_PAD) == 0 && t[e] == '=')))
        return 0;
    return e;
}

const char *const secret_services_seconds[256] = {
    ['A'] = "GT", ['G'] = "R", ['H'] = "R", ['N'] = "R", ['P'] = "M", ['d'] = "aop",
    ['g'] = "l", ['k'] = "e", ['l'] = "i", ['n'] = "pt", ['o'] = "p", ['p'] = "su",
    ['r'] = "u", ['s'] = "ehn",
};

size_t secret_services_at(struct scan *s, size_t i, char c1)
{
    const struct service_token *tk;
    size_t w, e;
    unsigned char p = i > 0 ? (unsigned char)s->t[i - 1] : ' ';

    if (!secret_services_may_start(s->t[i], c1))
        return 0;
    /* not after [A-Za-z0-9_-]: no body holds the start of another, so no
     * byte is read twice */
    if (is_b64url(p))
        return 0;
    for (w = find_prefix(s->t[i], c1); w < SERVICES_N && services[w].prefix[0] == s->t[i] &&
                                       services[w].prefix[1] == c1;
         w++) {
        tk = &services[w];
        if (!scan_has(s, i, tk->prefix, strlen(tk->prefix)) ||
            ((tk->flags & SV_ALONE) != 0 && p == '.'))
            continue;
        e = body(s, tk, i + strlen(tk->prefix));
        if (e == 0)
            continue;
        scan_add(s, i, e, tk->kind, 0);
        return e;
    }
    return 0;
}

/* 1 when t[h..h+len) is a key's body before its suffix: [0-9a-f] only,
 * not after [A-Za-z0-9_-], of two classes and not mostly one byte. */
static int hex_key_at(const struct scan *s, size_t h, size_t len)
{
    const char *t = s->t;

    return scan_run_len(s, h, is_hex_lower, len) == len &&
           !(h > 0 && is_b64url((unsigned char)t[h - 1])) && secret_text_two_classes(t + h, len) &&
           !secret_text_mostly_one_byte(t + h, len);
}

size_t secret_services_mailchimp_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t d, h;

    if (i < MAILCHIMP_HEX_LEN || !scan_has(s, i, "-us", 3))
        return 0;
    d = scan_run_len(s, i + 3, ascii_is_digit, 2);
    if (d == 0 || d > 2 || (i + 3 + d < s->n && is_b64url((unsigned char)t[i + 3 + d])))
        return 0;
    h = i - MAILCHIMP_HEX_LEN;
    if (!hex_key_at(s, h, MAILCHIMP_HEX_LEN))
        return 0;
    scan_add(s, h, i + 3 + d, K_MAILCHIMP, 0);
    return i + 3 + d;
}

size_t secret_services_new_relic_license_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t h;

    if (i < NEW_RELIC_LICENSE_HEX_LEN || !scan_has(s, i, "NRAL", 4) ||
        (i + 4 < s->n && is_b64url((unsigned char)t[i + 4])))
        return 0;
    h = i - NEW_RELIC_LICENSE_HEX_LEN;
    if (!hex_key_at(s, h, NEW_RELIC_LICENSE_HEX_LEN))
        return 0;
    scan_add(s, h, i + 4, K_NEW_RELIC, 0);
    return i + 4;
}

size_t secret_services_telegram_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t b = i, e = i + 1 + TELEGRAM_SECRET_LEN;

    while (b > 0 && i - b <= TELEGRAM_ID_MAX && ascii_is_digit((unsigned char)t[b - 1]))
        b--;
    if (i - b < TELEGRAM_ID_MIN || i - b > TELEGRAM_ID_MAX || !scan_has(s, i + 1, "AA", 2))
        return 0;
    /* the id stands alone, or after "bot" in the Bot API's URL path
     * (api.telegram.org/bot<token>/method) */
    if (b > 0 && ascii_is_alnum((unsigned char)t[b - 1]) &&
        !(b >= 4 && memcmp(t + b - 3, "bot", 3) == 0 && t[b - 4] == '/'))
        return 0;
    if (scan_run_len(s, i + 1, is_b64url, TELEGRAM_SECRET_LEN) != TELEGRAM_SECRET_LEN ||
        !secret_text_two_classes(t + i + 3, TELEGRAM_SECRET_LEN - 2) ||
        secret_text_mostly_one_byte(t + i + 3, TELEGRAM_SECRET_LEN - 2))
        return 0;
    scan_add(s, b, e, K_TELEGRAM, 0);
    return e;
}
