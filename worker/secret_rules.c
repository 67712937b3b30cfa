/* secret_rules.c - the secret detectors; see secret_rules.h.
 *
 * One left-to-right pass (scan_text) tries every rule at every offset. Each
 * rule is anchored on a literal prefix or an operator and reads a bounded
 * stretch forward (or a stretch no other attempt re-reads), so the pass is
 * linear in the text and nothing backtracks. A second pass (scan_near) looks
 * for bare secrets around the AWS and Razorpay key ids found; after the
 * caller has sorted and located the spans, secret_rules_relabel labels
 * generic values by the key ids next to them. How a value or a name is
 * judged (entropy, placeholders, secret names) is in secret_text.c.
 *
 * Rules ("word" below means the byte before the match is not [A-Za-z0-9]):
 *
 *   aws_access_key_id     word, AKIA|ASIA + 16 [A-Z0-9], not followed by
 *                         [A-Za-z0-9]
 *   aws_secret_access_key a value of exactly 40 [A-Za-z0-9/+] assigned to a
 *                         name containing secretaccesskey, or aws and secret;
 *                         or any such 40-byte run with upper case, lower case
 *                         and a digit and entropy >= 4.0 bits within NEAR_LINES
 *                         lines of an AWS access key id
 *   github_token          word, gh[pousr]_ + 36..255 [A-Za-z0-9];
 *                         word, github_pat_ + 82..255 [A-Za-z0-9_]
 *   gitlab_token          word, glpat- + 20..255 [A-Za-z0-9_-]
 *   slack_token           word, xox[abprs]- + 10..255 [A-Za-z0-9-]
 *   slack_webhook         hooks.slack.com/{services,workflows,triggers}/ +
 *                         20..255 [A-Za-z0-9/_-] (only that path is replaced)
 *   stripe_key            word, (sk|rk)_(live|test)_ + 24..255 [A-Za-z0-9]
 *                         (pk_ keys are publishable and never matched)
 *   razorpay_key          word, rzp_(live|test)_ + exactly 14 [A-Za-z0-9]
 *   razorpay_key_secret   a value of 16..64 [A-Za-z0-9] assigned to a name
 *                         containing razorpay, or containing secret within
 *                         NEAR_LINES lines of a Razorpay key; or a run of
 *                         exactly 24 [A-Za-z0-9] with upper, lower and digit
 *                         and entropy >= 3.5 bits within NEAR_LINES lines of
 *                         one (client = Client(auth=("rzp_...", "...")))
 *   google_api_key        word, AIza + exactly 35 [A-Za-z0-9_-]
 *   private_key           -----BEGIN <label>----- where the label is
 *                         [A-Z0-9 ]* ending in PRIVATE KEY (or PRIVATE KEY
 *                         BLOCK), a body of base64, armor headers, quotes,
 *                         commas and \n escapes (each line may start with a
 *                         comment leader: # * ; > % ! // --) holding a
 *                         base64 run of at least PEM_RUN_MIN bytes, through
 *                         -----END <label>-----
 *                         (or, unterminated, through the last base64 line);
 *                         or, its BEGIN line cut off, -----END <label>-----
 *                         and the lines of only base64 just above it
 *   jwt                   eyJ not after [A-Za-z0-9_-]: a base64url segment
 *                         of >= 10 bytes, '.', one of >= 4 starting "ey",
 *                         '.', and a signature (possibly empty; JWE's two
 *                         further segments are included)
 *   connection_password   scheme://user:password@host: the bytes between
 *                         the first ':' and the last '@' of the authority,
 *                         unless a placeholder (password, ${X}, ***, ...)
 *   generic_secret        NAME op VALUE with op one of = : := => (or
 *                         #define NAME "VALUE"), where the last word of NAME
 *                         (split at non-letters and camelCase humps) ends in
 *                         password, passwd, pwd, passphrase, secret, token,
 *                         apikey, accesskey, privatekey, secretkey, authkey,
 *                         auth, authorization, credential(s), or is pass, or
 *                         is key after api/access/private/secret/auth/
 *                         master/signing/encryption/client/app, or is id
 *                         after secret. So token_url, password_hash and
 *                         PASSWORD_MIN_LENGTH are not secrets. VALUE is a
 *                         one-line quoted string (a "Bearer "/"Basic "/
 *                         "Token " prefix stays in the text) or an unquoted
 *                         word; a ':' with no blank after it and an unquoted
 *                         name takes quoted values only ("urn:oauth:x").
 *                         VALUE needs GENERIC_MIN_LEN..SECRET_VALUE_MAX
 *                         bytes (secret_text), no blanks or control bytes,
 *                         a byte other than [a-z._-], two character classes
 *                         and Shannon entropy >= GENERIC_MIN_BITS bits per
 *                         byte. It is
 *                         not a secret when it is a placeholder (mostly one
 *                         byte, $VAR, ${X}, $(cmd), %s, <...>, {...}, or
 *                         contains changeme, your, example, xxx, ...), a URL,
 *                         a path, a Stripe pk_ key, names a secret itself
 *                         ("userPassword", "auth-psk", "true|false"), or,
 *                         unquoted, is code: holds ()[]{}<>, starts with
 *                         $@%&*!, is a dotted name or an identifier with
 *                         fewer than two digits.
 *
 * Specific token rules also reject bodies made mostly of one character
 * (ghp_xxxx...). Merge priority: private_key > the token kinds > jwt >
 * connection_password > generic_secret.
 */
#include "worker/secret_rules.h"

#include <stdlib.h>
#include <string.h>

#include "worker/ascii.h"
#include "worker/secret_text.h"

/* Bytes of a variable-length token body; a longer run is not that token. */
#define TOKEN_MAX 255
/* Bytes of one JWT segment. */
#define JWT_SEGMENT_MAX (16 * 1024)
/* Bytes of a URL authority (user:password@host:port). */
#define URL_AUTHORITY_MAX 512
/* Bytes of a URL scheme. */
#define URL_SCHEME_MAX 32
/* Blanks skipped around an assignment operator. */
#define ASSIGN_BLANKS_MAX 16
/* Longest base64 run a private key body must hold, bytes. */
#define PEM_RUN_MIN 32
/* Bytes before a headless key's END label on its line (det_pem_tail). */
#define PEM_TAIL_LEAD_MAX 16
/* Bytes of a PEM label ("ENCRYPTED PRIVATE KEY"). */
#define PEM_LABEL_MAX 48
/* Lines around an AWS or Razorpay key id searched for its secret. */
#define NEAR_LINES 3
/* Bytes around a key id searched for its secret (long lines). */
#define NEAR_BYTES 1024
/* Spans looked at on each side when labelling a value by its neighbours. */
#define NEAR_SPANS 32

enum kind {
    K_AWS_ID,
    K_AWS_SECRET,
    K_GITHUB,
    K_GITLAB,
    K_SLACK_TOKEN,
    K_SLACK_WEBHOOK,
    K_STRIPE,
    K_RAZORPAY_KEY,
    K_RAZORPAY_SECRET,
    K_GOOGLE,
    K_PRIVATE_KEY,
    K_JWT,
    K_CONN_PASSWORD,
    K_GENERIC,
    K_COUNT
};

static const struct secret_kind kinds[K_COUNT] = {
    [K_AWS_ID] = {"aws_access_key_id", "AWS access key id", 3},
    [K_AWS_SECRET] = {"aws_secret_access_key", "AWS secret access key", 3},
    [K_GITHUB] = {"github_token", "GitHub token", 3},
    [K_GITLAB] = {"gitlab_token", "GitLab token", 3},
    [K_SLACK_TOKEN] = {"slack_token", "Slack token", 3},
    [K_SLACK_WEBHOOK] = {"slack_webhook", "Slack webhook URL", 3},
    [K_STRIPE] = {"stripe_key", "Stripe secret key", 3},
    [K_RAZORPAY_KEY] = {"razorpay_key", "Razorpay key", 3},
    [K_RAZORPAY_SECRET] = {"razorpay_key_secret", "Razorpay key secret", 3},
    [K_GOOGLE] = {"google_api_key", "Google API key", 3},
    [K_PRIVATE_KEY] = {"private_key", "private key", 4},
    [K_JWT] = {"jwt", "JSON Web Token", 2},
    [K_CONN_PASSWORD] = {"connection_password", "password in a connection string", 1},
    [K_GENERIC] = {"generic_secret", "secret value", 0},
};

/* Hints the assignment rule leaves on a generic span for relabelling, next
 * to the SECRET_NAME_* bits of the name. */
#define F_VALUE_B64_40  0x08u   /* value is 40 [A-Za-z0-9/+] */
#define F_VALUE_ALNUM   0x10u   /* value is 16..64 [A-Za-z0-9] */

struct scan {
    const char *t;           /* borrowed text */
    size_t n;                /* bytes */
    struct secret_span *v;   /* owns: spans found */
    size_t nv, cap;
    int oom;
    size_t assign_floor;     /* operators before this offset are inside a
                                value already read */
};

typedef int (*byte_pred)(unsigned char c);

static int is_alnum_dash(unsigned char c) { return ascii_is_alnum(c) || c == '-'; }
static int is_b64url(unsigned char c) { return ascii_is_alnum(c) || c == '_' || c == '-'; }
static int is_b64(unsigned char c) { return ascii_is_alnum(c) || c == '+' || c == '/' || c == '='; }
static int is_aws_secret_char(unsigned char c) { return ascii_is_alnum(c) || c == '+' || c == '/'; }
static int is_url_path(unsigned char c) { return is_b64url(c) || c == '/'; }
static int is_blank(unsigned char c) { return c == ' ' || c == '\t'; }
static int is_quote(unsigned char c) { return c == '"' || c == '\'' || c == '`'; }

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Bytes that may sit next to a near-rule token without being part of it. */
static int is_word_ext(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '/' || c == '_' || c == '-';
}

static int is_name_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static int is_scheme_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/* 1 when lit (len bytes) occurs at t[i]. */
static int has(const struct scan *s, size_t i, const char *lit, size_t len)
{
    return i <= s->n && len <= s->n - i && memcmp(s->t + i, lit, len) == 0;
}

/* 1 when the byte before i does not continue an alphanumeric word. */
static int word_start(const struct scan *s, size_t i)
{
    return i == 0 || !ascii_is_alnum((unsigned char)s->t[i - 1]);
}

/* Length of the run of bytes satisfying pred from `from`, counting at most
 * cap + 1 bytes (so a result > cap means "longer than cap"). */
static size_t run_len(const struct scan *s, size_t from, byte_pred pred, size_t cap)
{
    size_t k = from;

    while (k < s->n && k - from <= cap && pred((unsigned char)s->t[k]))
        k++;
    return k - from;
}

/* 1 when v[0..n) begins with lit (lower case), ignoring ASCII case. */
static int prefix_ci(const char *v, size_t n, const char *lit)
{
    size_t len = strlen(lit), j;

    if (len > n)
        return 0;
    for (j = 0; j < len; j++)
        if (ascii_lower((unsigned char)v[j]) != (unsigned char)lit[j])
            return 0;
    return 1;
}

static void span_add(struct scan *s, size_t start, size_t end, int kind, unsigned flags)
{
    struct secret_span *v;
    size_t cap;

    if (s->oom || end <= start)
        return;
    if (s->nv == s->cap) {
        cap = s->cap != 0 ? s->cap * 2 : 16;
        v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            s->oom = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->nv].start = start;
    s->v[s->nv].end = end;
    s->v[s->nv].kind = kind;
    s->v[s->nv].flags = flags;
    s->v[s->nv].line = 0;
    s->v[s->nv].column = 0;
    s->nv++;
}

/* A token of plen prefix bytes (already checked) and a body of min..max
 * bytes satisfying pred. Returns the offset past it, or 0. */
static size_t token(struct scan *s, size_t i, size_t plen, byte_pred pred, size_t min,
                    size_t max, int kind)
{
    size_t r;

    if (!word_start(s, i))
        return 0;
    r = run_len(s, i + plen, pred, max);
    if (r < min || r > max || secret_text_mostly_one_byte(s->t + i + plen, r))
        return 0;
    span_add(s, i, i + plen + r, kind, 0);
    return i + plen + r;
}

static size_t det_capital_a(struct scan *s, size_t i)
{
    if (has(s, i, "AKIA", 4) || has(s, i, "ASIA", 4)) {
        /* exactly 16: the run must stop before any other letter */
        if (i + 20 < s->n && ascii_is_alnum((unsigned char)s->t[i + 20]))
            return 0;
        return token(s, i, 4, ascii_is_upper_digit, 16, 16, K_AWS_ID);
    }
    if (has(s, i, "AIza", 4))
        return token(s, i, 4, is_b64url, 35, 35, K_GOOGLE);
    return 0;
}

static size_t det_g(struct scan *s, size_t i)
{
    if (has(s, i, "gh", 2) && i + 3 < s->n && ascii_in_set(s->t[i + 2], "pousr") &&
        s->t[i + 3] == '_')
        return token(s, i, 4, ascii_is_alnum, 36, TOKEN_MAX, K_GITHUB);
    if (has(s, i, "github_pat_", 11))
        return token(s, i, 11, ascii_is_alnum_us, 82, TOKEN_MAX, K_GITHUB);
    if (has(s, i, "glpat-", 6))
        return token(s, i, 6, is_b64url, 20, TOKEN_MAX, K_GITLAB);
    return 0;
}

static size_t det_x(struct scan *s, size_t i)
{
    if (has(s, i, "xox", 3) && i + 4 < s->n && ascii_in_set(s->t[i + 3], "abprs") &&
        s->t[i + 4] == '-')
        return token(s, i, 5, is_alnum_dash, 10, TOKEN_MAX, K_SLACK_TOKEN);
    return 0;
}

static size_t det_s_r(struct scan *s, size_t i)
{
    if ((has(s, i, "sk_", 3) || has(s, i, "rk_", 3)) &&
        (has(s, i + 3, "live_", 5) || has(s, i + 3, "test_", 5)))
        return token(s, i, 8, ascii_is_alnum, 24, TOKEN_MAX, K_STRIPE);
    if (has(s, i, "rzp_", 4) && (has(s, i + 4, "live_", 5) || has(s, i + 4, "test_", 5)))
        return token(s, i, 9, ascii_is_alnum, 14, 14, K_RAZORPAY_KEY);
    return 0;
}

static size_t det_jwt(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, r;
    int extra;

    if (!has(s, i, "eyJ", 3) || (i > 0 && is_b64url((unsigned char)t[i - 1])))
        return 0;
    r = run_len(s, i, is_b64url, JWT_SEGMENT_MAX);
    if (r < 10 || r > JWT_SEGMENT_MAX)
        return 0;
    k = i + r;
    if (k >= s->n || t[k] != '.')
        return 0;
    k++;
    r = run_len(s, k, is_b64url, JWT_SEGMENT_MAX);
    if (r < 4 || r > JWT_SEGMENT_MAX || t[k] != 'e' || t[k + 1] != 'y')
        return 0;
    k += r;
    if (k >= s->n || t[k] != '.')
        return 0;
    k++;
    r = run_len(s, k, is_b64url, JWT_SEGMENT_MAX);
    if (r > JWT_SEGMENT_MAX)
        return 0;
    k += r;
    /* JWE compact form has five segments. */
    for (extra = 0; extra < 2 && k + 1 < s->n && t[k] == '.' &&
                    is_b64url((unsigned char)t[k + 1]); extra++) {
        r = run_len(s, k + 1, is_b64url, JWT_SEGMENT_MAX);
        if (r > JWT_SEGMENT_MAX)
            return 0;
        k += 1 + r;
    }
    span_add(s, i, k, K_JWT, 0);
    return k;
}

static size_t det_slack_webhook(struct scan *s, size_t i)
{
    static const char *const paths[] = {"services/", "workflows/", "triggers/", NULL};
    const char *last;
    size_t k, r, j;

    if (!has(s, i, "hooks.slack.com/", 16) || !word_start(s, i))
        return 0;
    k = i + 16;
    for (j = 0; paths[j] != NULL; j++)
        if (has(s, k, paths[j], strlen(paths[j])))
            break;
    if (paths[j] == NULL)
        return 0;
    k += strlen(paths[j]);
    r = run_len(s, k, is_url_path, TOKEN_MAX);
    if (r < 20 || r > TOKEN_MAX)
        return 0;
    last = memrchr(s->t + k, '/', r);
    j = last != NULL ? (size_t)(last - s->t) + 1 : k;
    if (secret_text_mostly_one_byte(s->t + j, k + r - j))
        return 0;   /* .../services/T000/B000/XXXXXXXX */
    span_add(s, k, k + r, K_SLACK_WEBHOOK, 0);
    return k + r;
}

/* A PEM label at k naming a private key, followed by "-----". Returns the
 * offset past the dashes, or 0. */
static size_t pem_label(const struct scan *s, size_t k)
{
    const char *t = s->t;
    size_t j = k, len;

    while (j < s->n && j - k <= PEM_LABEL_MAX &&
           (ascii_is_upper_digit((unsigned char)t[j]) || t[j] == ' '))
        j++;
    if (!has(s, j, "-----", 5))
        return 0;
    len = j - k;
    if ((len >= 11 && memcmp(t + j - 11, "PRIVATE KEY", 11) == 0) ||
        (len >= 17 && memcmp(t + j - 17, "PRIVATE KEY BLOCK", 17) == 0))
        return j + 5;
    return 0;
}

/* Bytes a key body may hold besides base64: blanks, line breaks, headers
 * (Proc-Type: 4,ENCRYPTED), and the quotes, commas and \n escapes of a key
 * pasted into a string literal. */
static int is_pem_body(unsigned char c)
{
    return is_b64(c) || is_space(c) || c == '\\' || is_quote(c) || c == ',' || c == ':' ||
           c == '-' || c == '.';
}

/* Bytes that may lead a key's body line: its indentation and a comment
 * leader, for a key pasted into comments ("# ", " * ", "; ", "> ", "% ",
 * "! "; "//" and "--" are body bytes already). */
static int is_pem_lead(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '#' || c == '*' || c == ';' || c == '>' || c == '%' ||
           c == '!';
}

/* Where a key's body line starting at j has its material: past its lead,
 * and past a whole armor header line ("Comment: Alice <a@b>", "DEK-Info:
 * AES-128-CBC,..."), whose bytes need not be body bytes. */
static size_t pem_line_start(const struct scan *s, size_t j)
{
    const char *t = s->t;
    size_t h;

    while (j < s->n && is_pem_lead((unsigned char)t[j]))
        j++;
    for (h = j; h < s->n && (ascii_is_alnum((unsigned char)t[h]) || t[h] == '-'); h++)
        ;
    if (h > j && has(s, h, ": ", 2))
        while (h < s->n && t[h] != '\n' && t[h] != '\r')
            h++;
    else
        h = j;
    return h;
}

static size_t det_pem(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, j, run = 0, best = 0, last_good = 0, end = 0;

    if (!has(s, i, "-----BEGIN ", 11))
        return 0;
    k = pem_label(s, i + 11);
    if (k == 0)
        return 0;
    for (j = k; j < s->n; j++) {
        unsigned char c = (unsigned char)t[j];

        if (is_b64(c)) {
            run++;
            continue;
        }
        if (run > best)
            best = run;
        if (run >= 16 || (run > 0 && t[j - 1] == '='))
            last_good = j;
        run = 0;
        if (c == '-' && has(s, j, "-----END ", 9)) {
            end = pem_label(s, j + 9);
            break;
        }
        /* Another block starts: stop here, so no byte is read twice. */
        if (c == '-' && has(s, j, "-----BEGIN", 10))
            break;
        if (!is_pem_body(c))
            break;
        if (c == '\n')
            j = pem_line_start(s, j + 1) - 1;
    }
    if (run > best)
        best = run;
    if (run >= 16 || (run > 0 && t[j - 1] == '='))
        last_good = j;
    if (best < PEM_RUN_MIN)
        return 0;
    if (end == 0)
        end = last_good;   /* unterminated: through the key material seen */
    if (end <= i)
        return 0;
    span_add(s, i, end, K_PRIVATE_KEY, 0);
    return end;
}

/* The key material of line [ls, le): past its lead and an opening quote,
 * then only base64 up to trailing blanks, quotes, commas or a "\n" escape. Returns its bytes,
 * 0 when the line is anything else; *at is where the material starts. */
static size_t pem_tail_line(const struct scan *s, size_t ls, size_t le, size_t *at)
{
    const char *t = s->t;
    size_t j = ls, b;

    while (j < le && is_pem_lead((unsigned char)t[j]))
        j++;
    if (j < le && is_quote((unsigned char)t[j]))
        j++;                        /* a line of a string literal */
    for (;;) {
        if (le > j && (is_space((unsigned char)t[le - 1]) || is_quote((unsigned char)t[le - 1]) ||
                       t[le - 1] == ','))
            le--;
        else if (le - j >= 2 && t[le - 2] == '\\' && t[le - 1] == 'n')
            le -= 2;
        else
            break;
    }
    for (b = j; b < le && is_b64((unsigned char)t[b]); b++)
        ;
    *at = j;
    return b == le ? le - j : 0;
}

/* A key whose BEGIN line is gone (the tail of a long output, cut before
 * redaction): at -----END <label>----- not reached by det_pem, the lines
 * of key material just above it, back to the first line that is not one,
 * when they hold at least PEM_RUN_MIN bytes. Each line is read back once:
 * the walk stops at the line before, which is no key line. */
static size_t det_pem_tail(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t end, ls, start, at, total = 0;

    if (!has(s, i, "-----END ", 9) || (end = pem_label(s, i + 9)) == 0)
        return 0;
    /* The END line starts its line, after a lead or a quote at most (a
     * bounded look back: a long line of END labels stays linear). */
    for (ls = i; ls > 0 && i - ls < PEM_TAIL_LEAD_MAX && t[ls - 1] != '\n' &&
                 (is_pem_lead((unsigned char)t[ls - 1]) || is_quote((unsigned char)t[ls - 1]));
         ls--)
        ;
    if (ls > 0 && t[ls - 1] != '\n')
        return 0;
    start = ls;
    while (ls > 0) {
        size_t le = ls - 1, n;      /* the '\n' ending the line above */
        for (ls = le; ls > 0 && t[ls - 1] != '\n'; ls--)
            ;
        if ((n = pem_tail_line(s, ls, le, &at)) == 0)
            break;
        total += n;
        start = at;
    }
    if (total < PEM_RUN_MIN)
        return 0;
    span_add(s, start, end, K_PRIVATE_KEY, 0);
    return end;
}

/* Bytes that end a URL authority. */
static int ends_authority(unsigned char c)
{
    return is_space(c) || c == '/' || c == '?' || c == '#' || is_quote(c) || c == '<' ||
           c == '>' || c == '\\' || c < 0x20;
}

static void det_connection(struct scan *s, size_t i)
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
        if (pn == strlen(stand_ins[w]) && prefix_ci(t + ps, pn, stand_ins[w]))
            return;
    span_add(s, ps, at, K_CONN_PASSWORD, 0);
}

/* Kind of an assigned value, or -1; *vflags gets the value's F_VALUE_*. */
static int classify_value(const char *v, size_t n, int quoted, unsigned nflags, unsigned *vflags)
{
    size_t i;
    int b64 = n == 40, alnum = n >= 16 && n <= 64;

    for (i = 0; i < n && (b64 || alnum); i++) {
        b64 = b64 && is_aws_secret_char((unsigned char)v[i]);
        alnum = alnum && ascii_is_alnum((unsigned char)v[i]);
    }
    *vflags = (b64 ? F_VALUE_B64_40 : 0u) | (alnum ? F_VALUE_ALNUM : 0u);
    if (secret_text_is_placeholder(v, n))
        return -1;
    if ((nflags & SECRET_NAME_AWS) != 0 && b64)
        return K_AWS_SECRET;
    if ((nflags & SECRET_NAME_RAZORPAY) != 0 && alnum)
        return K_RAZORPAY_SECRET;
    return secret_text_generic_ok(v, n, quoted) ? K_GENERIC : -1;
}

/* Bytes that end an unquoted value. */
static int ends_unquoted(unsigned char c)
{
    return is_space(c) || is_quote(c) || c == ';' || c == ',' || c == ')' || c == ']' ||
           c == '}' || c == '&' || c == '\0';
}

static size_t skip_blanks(const struct scan *s, size_t p)
{
    size_t k = p;

    while (k < s->n && k - p < ASSIGN_BLANKS_MAX && is_blank((unsigned char)s->t[k]))
        k++;
    return k;
}

/* Reads the value at p (after blanks): a quoted string on one line, or,
 * unless quoted_only, an unquoted word. Returns 0 and [*vs, *ve), or -1.
 * Moves assign_floor past what it read either way. */
static int read_value(struct scan *s, size_t p, int quoted_only, size_t *vs, size_t *ve,
                      int *quoted)
{
    const char *t = s->t;
    size_t k;
    char q;

    p = skip_blanks(s, p);
    /* r"...", b'...', u"...", f"...", @"..." */
    if (p + 1 < s->n && ascii_in_set(t[p], "rRbBuUfF@") &&
        is_quote((unsigned char)t[p + 1]))
        p++;
    if (p < s->n && is_quote((unsigned char)t[p])) {
        q = t[p];
        for (k = p + 1; k < s->n && k - p <= SECRET_VALUE_MAX + 1; k++) {
            if (t[k] == '\\')
                k++;
            else if (t[k] == q || t[k] == '\n')
                break;
        }
        if (k >= s->n || t[k] != q) {
            s->assign_floor = k;
            return -1;
        }
        s->assign_floor = k + 1;
        *vs = p + 1;
        *ve = k;
        *quoted = 1;
        return 0;
    }
    if (quoted_only)
        return -1;
    for (k = p; k < s->n && k - p <= SECRET_VALUE_MAX && !ends_unquoted((unsigned char)t[k]); k++)
        ;
    s->assign_floor = k;
    if (k - p > SECRET_VALUE_MAX)
        return -1;
    *vs = p;
    *ve = k;
    *quoted = 0;
    return 0;
}

/* The assignment rule for a name t[ns..ne) and a value from val_from. A
 * ':' operator may be a type annotation: token: str = "..." reads on. A
 * tight ':' (no blank after it, name not quoted) only takes a quoted value:
 * {token:'...'} is an assignment, "urn:oauth:grant-type" is not. */
static void det_value(struct scan *s, size_t ns, size_t ne, size_t val_from, int colon,
                      int tight, int quoted_only)
{
    static const char *const schemes[] = {"bearer ", "basic ", "token ", NULL};
    size_t k, vs, ve, w;
    unsigned nflags, vflags;
    int quoted, kind;

    nflags = secret_text_name_flags(s->t, ns, ne);
    if ((nflags & SECRET_NAME_LISTED) == 0)
        return;
    if (read_value(s, val_from, quoted_only, &vs, &ve, &quoted) < 0)
        return;
    if (colon && !quoted) {
        k = skip_blanks(s, ve);
        if (k < s->n && s->t[k] == '=' && (k + 1 >= s->n || s->t[k + 1] != '=')) {
            if (read_value(s, k + 1, 0, &vs, &ve, &quoted) < 0)
                return;
        } else if (tight) {
            return;
        }
    }
    for (w = 0; schemes[w] != NULL; w++) {
        if (quoted && prefix_ci(s->t + vs, ve - vs, schemes[w])) {
            vs += strlen(schemes[w]);
            break;
        }
        /* Authorization: Bearer abc... (a header line): the next word. */
        if (!quoted && ve - vs == strlen(schemes[w]) - 1 && ve < s->n && s->t[ve] == ' ' &&
            prefix_ci(s->t + vs, ve - vs + 1, schemes[w])) {
            if (read_value(s, ve, 0, &vs, &ve, &quoted) < 0 || quoted)
                return;
            break;
        }
    }
    kind = classify_value(s->t + vs, ve - vs, quoted, nflags, &vflags);
    if (kind >= 0)
        span_add(s, vs, ve, kind, nflags | vflags);
}

/* An '=' or ':' at i: finds the name before it and reads the value. */
static void det_assign(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, ne, from;
    int guard, name_quoted = 0;
    char next = i + 1 < s->n ? t[i + 1] : '\0';
    char prev = i > 0 ? t[i - 1] : '\0';

    if (i < s->assign_floor)
        return;
    if (t[i] == '=') {
        if (next == '=' || next == '~' || ascii_in_set(prev, "=!<>"))
            return;   /* a comparison */
        from = next == '>' ? i + 2 : i + 1;
    } else {
        if (next == ':' || prev == ':')
            return;   /* a scope: std::x */
        from = next == '=' ? i + 2 : i + 1;
    }
    for (guard = 0; j > 0 && guard < ASSIGN_BLANKS_MAX && is_blank((unsigned char)t[j - 1]);
         guard++)
        j--;
    if (j >= 2 && t[j - 1] == ']' && t[j - 2] == '[')
        j -= 2;       /* char key[] = "..." */
    else if (j > 0 && t[j - 1] == ']')
        j--;          /* cfg["key"] = "..." */
    if (j > 0 && is_quote((unsigned char)t[j - 1])) {
        j--;          /* "key": "..." */
        name_quoted = 1;
    }
    ne = j;
    while (j > 0 && ne - j < SECRET_NAME_MAX && is_name_char((unsigned char)t[j - 1]))
        j--;
    if (j == ne)
        return;
    det_value(s, j, ne, from, t[i] == ':' && next != '=',
              t[i] == ':' && !is_blank((unsigned char)next) && !name_quoted, 0);
}

/* #define NAME "value" */
static void det_define(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k = skip_blanks(s, i + 1), ns, b;

    if (i < s->assign_floor || !has(s, k, "define", 6))
        return;
    k += 6;
    b = skip_blanks(s, k);
    if (b == k)
        return;
    ns = k = b;
    while (k < s->n && k - ns < SECRET_NAME_MAX && ascii_is_alnum_us((unsigned char)t[k]))
        k++;
    if (k == ns || k >= s->n || !is_blank((unsigned char)t[k]))
        return;
    det_value(s, ns, k, k, 0, 0, 1);
}

/* The main pass: every rule at every offset, in one sweep. The second
 * byte is tested first: most 'e', 's' and 'r' bytes start nothing. */
static void scan_text(struct scan *s)
{
    const char *t = s->t;
    size_t i, next;
    char c1;

    for (i = 0; i < s->n && !s->oom; i++) {
        next = 0;
        c1 = i + 1 < s->n ? t[i + 1] : '\0';
        switch (t[i]) {
        case 'A':
            if (c1 == 'K' || c1 == 'S' || c1 == 'I')
                next = det_capital_a(s, i);
            break;
        case 'g':
            if (c1 == 'h' || c1 == 'i' || c1 == 'l')
                next = det_g(s, i);
            break;
        case 'x':
            if (c1 == 'o')
                next = det_x(s, i);
            break;
        case 's':
        case 'r':
            if (c1 == 'k' || c1 == 'z')
                next = det_s_r(s, i);
            break;
        case 'e':
            if (c1 == 'y')
                next = det_jwt(s, i);
            break;
        case 'h':
            if (c1 == 'o')
                next = det_slack_webhook(s, i);
            break;
        case '-':
            if (c1 == '-' && (next = det_pem(s, i)) == 0)
                next = det_pem_tail(s, i);
            break;
        case ':':
            if (c1 == '/' && has(s, i + 1, "//", 2))
                det_connection(s, i);
            else
                det_assign(s, i);
            break;
        case '=':
            det_assign(s, i);
            break;
        case '#':
            det_define(s, i);
            break;
        default:
            break;
        }
        if (next > i + 1)
            i = next - 1;
    }
}

struct near_rule {
    int anchor;              /* kind of the key id */
    int kind;                /* kind given to the secret found near it */
    size_t len;              /* exact bytes of the secret */
    byte_pred pred;          /* every byte of the secret */
    double min_bits;         /* entropy, bits per byte */
};

static const struct near_rule near_rules[] = {
    {K_AWS_ID, K_AWS_SECRET, 40, is_aws_secret_char, 4.0},
    {K_RAZORPAY_KEY, K_RAZORPAY_SECRET, 24, ascii_is_alnum, 3.5},
};

/* Offset of the start of the line NEAR_LINES lines above p, at most
 * NEAR_BYTES back and not before floor (already searched). */
static size_t near_start(const struct scan *s, size_t p, size_t floor)
{
    size_t lo = p > NEAR_BYTES ? p - NEAR_BYTES : 0, k = p;
    const char *q;
    int lines;

    if (lo < floor)
        lo = floor;
    for (lines = 0; lines <= NEAR_LINES; lines++) {
        q = k > lo ? memrchr(s->t + lo, '\n', k - lo) : NULL;
        if (q == NULL)
            return lo;
        k = (size_t)(q - s->t);
    }
    return k + 1;
}

/* Offset of the end of the line NEAR_LINES lines below p, at most
 * NEAR_BYTES on. */
static size_t near_end(const struct scan *s, size_t p)
{
    size_t hi = s->n - p > NEAR_BYTES ? p + NEAR_BYTES : s->n, k = p;
    const char *q;
    int lines;

    for (lines = 0; ; lines++) {
        q = k < hi ? memchr(s->t + k, '\n', hi - k) : NULL;
        if (q == NULL)
            return hi;
        if (lines == NEAR_LINES)
            return (size_t)(q - s->t);
        k = (size_t)(q - s->t) + 1;
    }
}

/* Bare secrets near key ids (an AWS key id followed by its secret in a
 * CSV row or a tuple). Windows are visited in order and never re-read. */
static void scan_near(struct scan *s, const struct near_rule *rule)
{
    const char *t = s->t;
    size_t nv = s->nv, i, k, r, ws, we, done = 0;

    for (i = 0; i < nv && !s->oom; i++) {
        if (s->v[i].kind != rule->anchor)
            continue;
        if (s->v[i].start < done && s->v[i].end + NEAR_BYTES <= done)
            continue;
        ws = near_start(s, s->v[i].start, done < s->v[i].start ? done : s->v[i].start);
        we = near_end(s, s->v[i].end);
        for (k = ws > done ? ws : done; k < we; ) {
            if (!is_word_ext((unsigned char)t[k])) {
                k++;
                continue;
            }
            r = 0;
            while (k + r < s->n && is_word_ext((unsigned char)t[k + r]))
                r++;
            if ((k == 0 || !is_word_ext((unsigned char)t[k - 1])) && r == rule->len &&
                run_len(s, k, rule->pred, r) == r && secret_text_mixed_case_digit(t + k, r) &&
                !secret_text_mostly_one_byte(t + k, r) &&
                secret_text_entropy(t + k, r) >= rule->min_bits)
                span_add(s, k, k + r, rule->kind, 0);
            k += r;
        }
        if (k > done)
            done = k;
    }
}

/* 1 when a span of kind lies within NEAR_LINES lines of v[i]. */
static int near_kind(const struct secret_span *v, size_t nv, size_t i, int kind)
{
    size_t j, steps;

    for (j = i, steps = 0; j > 0 && steps < NEAR_SPANS; steps++) {
        j--;
        if (v[i].line - v[j].line > NEAR_LINES)
            break;
        if (v[j].kind == kind)
            return 1;
    }
    for (j = i + 1, steps = 0; j < nv && steps < NEAR_SPANS; j++, steps++) {
        if (v[j].line - v[i].line > NEAR_LINES)
            break;
        if (v[j].kind == kind)
            return 1;
    }
    return 0;
}

/* Generic values next to an AWS or Razorpay key id are that key's secret. */
void secret_rules_relabel(struct secret_span *v, size_t nv)
{
    size_t i;

    for (i = 0; i < nv; i++) {
        if (v[i].kind != K_GENERIC)
            continue;
        if ((v[i].flags & F_VALUE_B64_40) != 0 && near_kind(v, nv, i, K_AWS_ID))
            v[i].kind = K_AWS_SECRET;
        else if ((v[i].flags & F_VALUE_ALNUM) != 0 && (v[i].flags & SECRET_NAME_SECRET) != 0 &&
                 near_kind(v, nv, i, K_RAZORPAY_KEY))
            v[i].kind = K_RAZORPAY_SECRET;
    }
}

const struct secret_kind *secret_rules_kind(int kind)
{
    return &kinds[kind];
}

int secret_rules_scan(const char *t, size_t n, struct secret_span **spans, size_t *count)
{
    struct scan s;
    size_t i;

    memset(&s, 0, sizeof(s));
    s.t = t;
    s.n = n;
    scan_text(&s);
    for (i = 0; i < sizeof(near_rules) / sizeof(near_rules[0]); i++)
        scan_near(&s, &near_rules[i]);
    if (s.oom) {
        free(s.v);
        *spans = NULL;
        *count = 0;
        return -1;
    }
    *spans = s.v;
    *count = s.nv;
    return 0;
}
