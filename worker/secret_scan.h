/* secret_scan.h - the state of one secret scan and the helpers the rule
 * files share (secret_rules.c drives the scan; secret_tokens.c,
 * secret_services.c, secret_pem.c, secret_conn.c, secret_assign.c,
 * secret_args.c, secret_words.c, secret_argv.c, secret_stdin.c,
 * secret_xml.c, secret_hash.c and secret_encoded.c hold the rules). Not
 * for use outside those files: redact.c sees only secret_rules.h.
 *
 * Every helper reads a bounded stretch of the borrowed text and allocates
 * nothing but the span array (scan_add).
 */
#ifndef WK_SECRET_SCAN_H
#define WK_SECRET_SCAN_H

#include <stddef.h>
#include <string.h>

#include "worker/ascii.h"
#include "worker/secret_rules.h"

/* Blanks skipped around an assignment operator. */
#define ASSIGN_BLANKS_MAX 16

/* The kinds of secret; secret_rules.c describes each (secret_rules_kind). */
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
    K_OPENAI,
    K_ANTHROPIC,
    K_SENDGRID,
    K_HUGGINGFACE,
    K_TWILIO_SID,
    K_TWILIO_TOKEN,
    K_PASSWORD_HASH,
    K_VAULT,
    K_PYPI,
    K_NPM,
    K_DIGITALOCEAN,
    K_SHOPIFY,
    K_HEROKU,
    K_MAILGUN,
    K_MAILCHIMP,
    K_POSTMAN,
    K_LINEAR,
    K_NOTION,
    K_DOPPLER,
    K_DATABRICKS,
    K_GRAFANA,
    K_NEW_RELIC,
    K_ATLASSIAN,
    K_TELEGRAM,
    K_DISCORD_WEBHOOK,
    K_TEAMS_WEBHOOK,
    K_AZURE_SAS,
    K_SENTRY,
    K_PLANETSCALE,
    K_PULUMI,
    K_RUBYGEMS,
    K_ONEPASSWORD,
    K_AGE,
    K_OPENSHIFT,
    K_COUNT
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
    size_t pend_ns, pend_ne; /* a secret's name given in a field of its own
                                (name: DB_PASSWORD), for the value field
                                that follows (secret_assign.c) */
    size_t pend_until;       /* the value field must start before this */
    int cmd;                 /* the command noted on the current line
                                (secret_words.c), 0: none */
    size_t cmd_checked;      /* no line break between the command and this
                                offset */
    size_t netrc_from;       /* a .netrc machine word at the start of its
                                line (secret_words.c) */
    size_t netrc_until;      /* its entry's lines end before this */
    size_t client_floor;     /* docker, podman or nerdctl before this
                                offset: no login after their options
                                (secret_words.c) */
    size_t cmd_at;           /* offset of the command noted, cmd: names
                                it for the fields below */
    size_t stdin_cmd;        /* cmd_at + 1 of a login seen with
                                --password-stdin (secret_stdin.c), 0: none */
    size_t here_cmd;         /* cmd_at + 1 of a login whose here-string or
                                here-document value [here_vs, here_ve)
                                waits for --password-stdin, 0: none */
    size_t here_vs, here_ve;
    size_t here_floor;       /* here-strings before this offset were read */
    size_t here_eol;         /* here-documents before this offset were read
                                (past their operator's line end) */
    size_t chain_floor;      /* quotes before this offset are inside a chain
                                of literals already read */
    size_t argv_floor;       /* command words before this offset are
                                arguments of a command already read
                                (secret_argv.c) */
    int nested;              /* 1 when t is decoded text (secret_encoded.h):
                                no further decoding */
    char *decoded;           /* owns: ENCODED_TEXT_MAX bytes for decoding,
                                allocated on first use; NULL when nested */
};

typedef int (*byte_pred)(unsigned char c);


static inline int is_alnum_dash(unsigned char c) { return ascii_is_alnum(c) || c == '-'; }
static inline int is_b64url(unsigned char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-';
}
static inline int is_b64(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '/' || c == '=';
}
static inline int is_aws_secret_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '/';
}
static inline int is_url_path(unsigned char c) { return is_b64url(c) || c == '/'; }
static inline int is_hex_lower(unsigned char c)
{
    return ascii_is_digit(c) || (c >= 'a' && c <= 'f');
}
static inline int is_blank(unsigned char c) { return c == ' ' || c == '\t'; }
static inline int is_quote(unsigned char c) { return c == '"' || c == '\'' || c == '`'; }

static inline int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Bytes that may sit next to a near-rule token without being part of it. */
static inline int is_word_ext(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '/' || c == '_' || c == '-';
}

static inline int is_name_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-' || c == '.';
}

static inline int is_scheme_char(unsigned char c)
{
    return ascii_is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/* 1 when lit (len bytes) occurs at t[i]. */
static inline int scan_has(const struct scan *s, size_t i, const char *lit, size_t len)
{
    return i <= s->n && len <= s->n - i && memcmp(s->t + i, lit, len) == 0;
}

/* 1 when the byte before i does not continue an alphanumeric word. */
static inline int scan_word_start(const struct scan *s, size_t i)
{
    return i == 0 || !ascii_is_alnum((unsigned char)s->t[i - 1]);
}

/* 1 when a shell word may end at t[k]: the end of the text, a space, a
 * quote or ';'. */
static inline int scan_word_end(const struct scan *s, size_t k)
{
    return k >= s->n || is_space((unsigned char)s->t[k]) || is_quote((unsigned char)s->t[k]) ||
           s->t[k] == ';';
}

/* Length of the run of bytes satisfying pred from `from`, counting at most
 * cap + 1 bytes (so a result > cap means "longer than cap"). */
size_t scan_run_len(const struct scan *s, size_t from, byte_pred pred, size_t cap);

/* 1 when v[0..n) begins with lit (lower case), ignoring ASCII case. */
int scan_prefix_ci(const char *v, size_t n, const char *lit);

/* Offset past at most ASSIGN_BLANKS_MAX blanks from p. */
size_t scan_skip_blanks(const struct scan *s, size_t p);

/* Offset of the first of at most ASSIGN_BLANKS_MAX blanks that end at p
 * (p when none does). */
size_t scan_skip_blanks_back(const struct scan *s, size_t p);

/* The name assigned the value that starts at t[i] (NAME=VALUE,
 * NAME="VALUE", NAME: VALUE, NAME := VALUE, "NAME": "VALUE"): sets
 * [*ns, *ne) and returns 1, else 0. */
int scan_assigned_name(const struct scan *s, size_t i, size_t *ns, size_t *ne);

/* Records the span [start, end) of kind with flags (nothing when end <=
 * start); sets s->oom when out of memory. */
void scan_add(struct scan *s, size_t start, size_t end, int kind, unsigned flags);

#endif
