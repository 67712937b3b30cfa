/* redact.h - finds secrets in submitted text and replaces them before
 * anything leaves for a model, a cache key or a log line.
 *
 * Detected: AWS access key ids and secret access keys, GitHub and GitLab
 * tokens, Slack tokens, Stripe and Razorpay keys, Google API keys, OpenAI,
 * Anthropic, SendGrid and Hugging Face keys, HashiCorp Vault tokens (hvs.,
 * hvb., a legacy s. one as VAULT_TOKEN's value or vault login's), PyPI
 * tokens, the tokens of npm, DigitalOcean, Shopify, Heroku, Mailgun,
 * Mailchimp, Postman, Linear, Notion, Doppler, Databricks, Grafana, New
 * Relic, Atlassian, Sentry, PlanetScale, Pulumi, RubyGems, 1Password service
 * accounts, OpenShift and Telegram bots, age secret keys, Slack, Discord and
 * Microsoft Teams webhook URLs, Azure SAS signatures (sig=), a Twilio auth
 * token beside its account SID, PEM private-key blocks, JWTs, password
 * hashes (crypt(3)'s $1$ $5$ $6$ $y$, bcrypt, Apache's $apr1$, Argon2,
 * Django's and LDAP's {SSHA} and {PBKDF2-SHA256}), credentials inside
 * connection strings (scheme://user:password@host, user:password@tcp(...),
 * Oracle's user/password@host:port/ and jdbc:oracle:thin:user/password@, an
 * ODBC string's Pwd={...}, Azure AccountKey=), and high-entropy values named
 * as password, secret, token, api_key...: assigned, in a field of their own
 * after a name field, beside the string naming them in a call, as
 * command-line options or a command's positional arguments (htpasswd -b,
 * rabbitmqctl add_user, net user, vault login), as XML element text, or
 * split across joined string literals. A base64 run that decodes to text
 * holding a secret (a PEM key encoded whole, a Kubernetes Secret's data) is
 * replaced whole.
 * The rule table is at the top of secret_rules.c.
 *
 * Each secret is replaced by a placeholder of the form
 * "[REDACTED:<kind>]" that keeps the text's line structure: a multi-line
 * secret (a PEM block) becomes one placeholder per line, so every line
 * number of the redacted text equals the original's.
 */
#ifndef WK_REDACT_H
#define WK_REDACT_H

#include <stddef.h>

#include "common/json.h"

/* How every placeholder starts: "[REDACTED:<kind>]". */
#define REDACT_MARK "[REDACTED:"

/* Secrets reported per text, at most (the rest are still replaced). */
#define REDACT_FINDINGS_MAX 200

struct redact_result {
    char *text;                 /* owns: the redacted text, NUL-terminated */
    size_t len;                 /* bytes, excluding the NUL */
    int count;                  /* secrets replaced */
    cJSON *findings;            /* owns: array of findings (linters.h shape) with
                                   severity "critical", category "security",
                                   rule_id "secret:<kind>", source "secrets",
                                   a message naming the kind but never the value */
};

/* Redacts text[0..len). Returns 0, or -1 when out of memory (res is then
 * empty). res must be released with redact_result_cleanup. */
int redact_text(const char *text, size_t len, struct redact_result *res);

/* Redacts a unified diff diff[0..len) as redact_text does, leaving a diff
 * that parses as the original (common/udiff.h) with the same files, hunks
 * and lines: each line of a hunk keeps its prefix (' ', '-', '+', '\'), a
 * hunk header its "@@ -a,b +c,d @@", a header line its keyword ("--- ",
 * "+++ ", "diff --git ", "index "...), and the rest of a line a secret
 * covers becomes a placeholder, a key spread over several '+' lines too.
 * Values are also looked for in the hunks' text without the prefixes, as
 * they stand in the file. Text that is not a diff udiff parses is
 * redacted as redact_text does. Returns 0, or -1 when out of memory (res
 * is then empty); res as for redact_text. */
int redact_diff(const char *diff, size_t len, struct redact_result *res);

/* Frees the members; safe on a zeroed struct. */
void redact_result_cleanup(struct redact_result *res);

/* Redacts, in place, the "message" of each finding of the array findings
 * (NULL: nothing): linters run on the original file and may quote a secret
 * ("undefined name 'ghp_...'"). A message that cannot be redacted (out of
 * memory) is left as it is. */
void redact_findings(cJSON *findings);

/* 1 when a line the unified diff adds ("+", not a "+++ " header) holds
 * REDACT_MARK: applied, it would write a placeholder into the code where
 * the secret was (the model saw the redacted text). Else 0. */
int redact_diff_adds_mark(const char *diff);

#endif
