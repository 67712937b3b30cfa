/* secret_tokens.c - the fixed-prefix token rules and the webhook URLs; see
 * secret_tokens.h. The rules
 * are described in the table at the top of secret_rules.c.
 */
#include "worker/secret_tokens.h"

#include <string.h>

#include "worker/secret_text.h"

/* Bytes of a variable-length token body; a longer run is not that token. */
#define TOKEN_MAX 255
/* Bytes of one JWT segment. */
#define JWT_SEGMENT_MAX (16 * 1024)
/* Bytes of a Vault hvs. or hvb. token's body: at least (a service token's
 * is 90 and more, a batch token's longer), at most. */
#define VAULT_TOKEN_MIN 90
#define VAULT_TOKEN_MAX 1024
/* Bytes of a legacy Vault token's body (s. + 24). */
#define VAULT_LEGACY_LEN 24
/* Bytes of a PyPI token after "pypi-": at least (the macaroon's header
 * alone is 15 or 22), at most. */
#define PYPI_TOKEN_MIN 70
#define PYPI_TOKEN_MAX 1024
/* Bytes of a GitLab token's body, at least, and of a routable one's
 * routing suffix (after its '.'). */
#define GITLAB_TOKEN_MIN 20
#define GITLAB_ROUTING_LEN 9
/* A Slack app-level token's app id ([A-Z0-9]) and number (digits), at
 * least and at most bytes, and its secret's bytes (hex). */
#define SLACK_APP_ID_MIN 8
#define SLACK_APP_ID_MAX 16
#define SLACK_APP_NUM_MIN 8
#define SLACK_APP_NUM_MAX 16
#define SLACK_APP_HEX_LEN 64
/* Digits of a Discord webhook's id (a snowflake), at least and at most;
 * bytes of its token, at least and at most (68 today). */
#define DISCORD_ID_MIN 17
#define DISCORD_ID_MAX 20
#define DISCORD_TOKEN_MIN 60
#define DISCORD_TOKEN_MAX 100
/* Bytes of a Teams webhook's path after webhookb2/ (two GUIDs joined by
 * '@', IncomingWebhook, a 32-digit id, a GUID, a V2 suffix), at least and
 * at most. */
#define TEAMS_PATH_MIN 100
#define TEAMS_PATH_MAX 512

static int is_lower_digit(unsigned char c) { return ascii_is_lower(c) || ascii_is_digit(c); }

static int is_teams_path(unsigned char c) { return is_url_path(c) || c == '@'; }

/* A token of plen prefix bytes (already checked) and a body of min..max
 * bytes satisfying pred. Returns the offset past it, or 0. */
static size_t token(struct scan *s, size_t i, size_t plen, byte_pred pred, size_t min,
                    size_t max, int kind)
{
    size_t r;

    if (!scan_word_start(s, i))
        return 0;
    r = scan_run_len(s, i + plen, pred, max);
    if (r < min || r > max || secret_text_mostly_one_byte(s->t + i + plen, r))
        return 0;
    scan_add(s, i, i + plen + r, kind, 0);
    return i + plen + r;
}

static size_t det_capital_a(struct scan *s, size_t i)
{
    if (scan_has(s, i, "AKIA", 4) || scan_has(s, i, "ASIA", 4)) {
        /* exactly 16: the run must stop before any other letter */
        if (i + 20 < s->n && ascii_is_alnum((unsigned char)s->t[i + 20]))
            return 0;
        return token(s, i, 4, ascii_is_upper_digit, 16, 16, K_AWS_ID);
    }
    if (scan_has(s, i, "AC", 2)) {
        if (i + 34 < s->n && ascii_is_alnum((unsigned char)s->t[i + 34]))
            return 0;
        return token(s, i, 2, is_hex_lower, 32, 32, K_TWILIO_SID);
    }
    if (scan_has(s, i, "AIza", 4))
        return token(s, i, 4, is_b64url, 35, 35, K_GOOGLE);
    return 0;
}

/* GitLab's tokens: personal, pipeline trigger, deploy, runner, CI job,
 * feed, incoming mail, Kubernetes agent, OAuth application secret, SCIM,
 * feature flag client; a routable one ends in '.' and 9 [0-9a-z]. */
static size_t det_gitlab(struct scan *s, size_t i)
{
    static const char *const prefixes[] = {"glpat-", "glptt-", "gldt-", "glrt-", "glcbt-",
                                           "glft-", "glimt-", "glagent-", "gloas-", "glsoat-",
                                           "glffct-", NULL};
    const char *t = s->t;
    size_t w, p, r, e;

    for (w = 0; prefixes[w] != NULL && !scan_has(s, i, prefixes[w], strlen(prefixes[w])); w++)
        ;
    /* not after [A-Za-z0-9_-]: a token's body never holds the start of
     * another, so no byte is read twice */
    if (prefixes[w] == NULL || (i > 0 && is_b64url((unsigned char)t[i - 1])))
        return 0;
    p = strlen(prefixes[w]);
    r = scan_run_len(s, i + p, is_b64url, TOKEN_MAX);
    if (r < GITLAB_TOKEN_MIN || r > TOKEN_MAX || secret_text_mostly_one_byte(t + i + p, r))
        return 0;
    e = i + p + r;
    if (e < s->n && t[e] == '.' &&
        scan_run_len(s, e + 1, is_lower_digit, GITLAB_ROUTING_LEN) == GITLAB_ROUTING_LEN &&
        (e + 1 + GITLAB_ROUTING_LEN >= s->n || !is_b64url((unsigned char)t[e + 1 + GITLAB_ROUTING_LEN])))
        e += 1 + GITLAB_ROUTING_LEN;
    scan_add(s, i, e, K_GITLAB, 0);
    return e;
}

static size_t det_g(struct scan *s, size_t i)
{
    if (scan_has(s, i, "gh", 2) && i + 3 < s->n && ascii_in_set(s->t[i + 2], "pousr") &&
        s->t[i + 3] == '_')
        return token(s, i, 4, ascii_is_alnum, 36, TOKEN_MAX, K_GITHUB);
    if (scan_has(s, i, "github_pat_", 11))
        return token(s, i, 11, ascii_is_alnum_us, 82, TOKEN_MAX, K_GITHUB);
    if (scan_has(s, i, "gl", 2))
        return det_gitlab(s, i);
    return 0;
}

/* A Slack app-level token: xapp-N-APPID-DIGITS-HEX (Socket Mode). Returns
 * the offset past it (its span added), or 0. */
static size_t det_slack_app(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k = i + 5, r;

    if (!scan_word_start(s, i) || k + 2 > s->n || !ascii_is_digit((unsigned char)t[k]) ||
        t[k + 1] != '-')
        return 0;
    k += 2;
    r = scan_run_len(s, k, ascii_is_upper_digit, SLACK_APP_ID_MAX);
    if (r < SLACK_APP_ID_MIN || r > SLACK_APP_ID_MAX || k + r >= s->n || t[k + r] != '-')
        return 0;
    k += r + 1;
    r = scan_run_len(s, k, ascii_is_digit, SLACK_APP_NUM_MAX);
    if (r < SLACK_APP_NUM_MIN || r > SLACK_APP_NUM_MAX || k + r >= s->n || t[k + r] != '-')
        return 0;
    k += r + 1;
    r = scan_run_len(s, k, is_hex_lower, SLACK_APP_HEX_LEN);
    if (r != SLACK_APP_HEX_LEN || (k + r < s->n && is_alnum_dash((unsigned char)t[k + r])) ||
        secret_text_mostly_one_byte(t + k, r))
        return 0;
    scan_add(s, i, k + r, K_SLACK_TOKEN, 0);
    return k + r;
}

/* Slack: xoxa- xoxb- xoxp- xoxr- xoxs- and xoxe- (a configuration
 * refresh token; xoxe.xoxp-... is read from its xoxp-), xapp-. */
static size_t det_x(struct scan *s, size_t i)
{
    if (scan_has(s, i, "xox", 3) && i + 4 < s->n && ascii_in_set(s->t[i + 3], "abeprs") &&
        s->t[i + 4] == '-')
        return token(s, i, 5, is_alnum_dash, 10, TOKEN_MAX, K_SLACK_TOKEN);
    if (scan_has(s, i, "xapp-", 5))
        return det_slack_app(s, i);
    return 0;
}

/* 1 when v[0..n) holds lit. */
static int holds(const char *v, size_t n, const char *lit)
{
    return memmem(v, n, lit, strlen(lit)) != NULL;
}

/* OpenAI (sk-proj-..., legacy sk-<48>) and Anthropic (sk-ant-...) keys. */
static size_t det_sk_dash(struct scan *s, size_t i)
{
    static const char *const openai[] = {"sk-proj-", "sk-svcacct-", "sk-admin-", NULL};
    size_t w, r;

    if (scan_has(s, i, "sk-ant-", 7))
        return token(s, i, 7, is_b64url, 40, TOKEN_MAX, K_ANTHROPIC);
    for (w = 0; openai[w] != NULL; w++)
        if (scan_has(s, i, openai[w], strlen(openai[w])))
            return token(s, i, strlen(openai[w]), is_b64url, 40, TOKEN_MAX, K_OPENAI);
    r = scan_run_len(s, i + 3, ascii_is_alnum, 48);
    if (r == 48 && holds(s->t + i + 3, r, "T3BlbkFJ") &&
        (i + 51 >= s->n || !is_b64url((unsigned char)s->t[i + 51])))
        return token(s, i, 3, ascii_is_alnum, 48, 48, K_OPENAI);
    return 0;
}

/* SendGrid: SG.<id>.<secret>. */
static size_t det_sendgrid(struct scan *s, size_t i)
{
    size_t a, b;

    if (!scan_has(s, i, "SG.", 3) || !scan_word_start(s, i))
        return 0;
    a = scan_run_len(s, i + 3, is_b64url, 32);
    if (a < 16 || a > 32 || i + 3 + a >= s->n || s->t[i + 3 + a] != '.')
        return 0;
    b = scan_run_len(s, i + 4 + a, is_b64url, 64);
    if (b < 32 || b > 64 || secret_text_mostly_one_byte(s->t + i + 4 + a, b))
        return 0;
    scan_add(s, i, i + 4 + a + b, K_SENDGRID, 0);
    return i + 4 + a + b;
}

static size_t det_s_r(struct scan *s, size_t i)
{
    if (scan_has(s, i, "sk-", 3))
        return det_sk_dash(s, i);
    if ((scan_has(s, i, "sk_", 3) || scan_has(s, i, "rk_", 3)) &&
        (scan_has(s, i + 3, "live_", 5) || scan_has(s, i + 3, "test_", 5)))
        return token(s, i, 8, ascii_is_alnum, 24, TOKEN_MAX, K_STRIPE);
    if (scan_has(s, i, "rzp_", 4) &&
        (scan_has(s, i + 4, "live_", 5) || scan_has(s, i + 4, "test_", 5)))
        return token(s, i, 9, ascii_is_alnum, 14, 14, K_RAZORPAY_KEY);
    return 0;
}

/* HashiCorp Vault: hvs. (service) and hvb. (batch) tokens. */
static size_t det_vault(struct scan *s, size_t i)
{
    if (!scan_has(s, i, "hvs.", 4) && !scan_has(s, i, "hvb.", 4))
        return 0;
    return token(s, i, 4, is_b64url, VAULT_TOKEN_MIN, VAULT_TOKEN_MAX, K_VAULT);
}

/* 1 when t[i] starts the value of a name ending in VAULT_TOKEN, any case
 * (VAULT_TOKEN=, "VAULT_TOKEN": ", vault_token = '). */
static int vault_token_value(const struct scan *s, size_t i)
{
    size_t ns, ne;

    return scan_assigned_name(s, i, &ns, &ne) && ne - ns >= 11 &&
           scan_prefix_ci(s->t + ne - 11, 11, "vault_token");
}

/* A legacy Vault token, s. + 24 [A-Za-z0-9], as VAULT_TOKEN's value only:
 * elsewhere s.X... is a member of an object. */
static size_t det_vault_legacy(struct scan *s, size_t i)
{
    const char *v = s->t + i + 2;
    size_t r = scan_run_len(s, i + 2, ascii_is_alnum, VAULT_LEGACY_LEN);
    size_t e = i + 2 + r;

    if (r != VAULT_LEGACY_LEN || (e < s->n && (is_b64url((unsigned char)s->t[e]) ||
                                               s->t[e] == '.')) ||
        !scan_word_start(s, i) || !secret_text_mixed_case_digit(v, r) ||
        !vault_token_value(s, i))
        return 0;
    scan_add(s, i, e, K_VAULT, 0);
    return e;
}

/* PyPI API tokens: pypi- and a macaroon whose header names pypi.org
 * (AgEIcHlwaS5vcmc) or test.pypi.org (AgENdGVzdC5weXBpLm9yZw), not after
 * [A-Za-z0-9_-]: a token's body never holds the start of another, so no
 * byte is read twice. */
static size_t det_pypi(struct scan *s, size_t i)
{
    if ((i > 0 && is_b64url((unsigned char)s->t[i - 1])) ||
        (!scan_has(s, i, "pypi-AgEIcHlwaS5vcmc", 20) &&
         !scan_has(s, i, "pypi-AgENdGVzdC5weXBpLm9yZw", 27)))
        return 0;
    return token(s, i, 5, is_b64url, PYPI_TOKEN_MIN, PYPI_TOKEN_MAX, K_PYPI);
}

static size_t det_jwt(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, r;
    int extra;

    if (!scan_has(s, i, "eyJ", 3) || (i > 0 && is_b64url((unsigned char)t[i - 1])))
        return 0;
    r = scan_run_len(s, i, is_b64url, JWT_SEGMENT_MAX);
    if (r < 10 || r > JWT_SEGMENT_MAX)
        return 0;
    k = i + r;
    if (k >= s->n || t[k] != '.')
        return 0;
    k++;
    r = scan_run_len(s, k, is_b64url, JWT_SEGMENT_MAX);
    if (r < 4 || r > JWT_SEGMENT_MAX || t[k] != 'e' || t[k + 1] != 'y')
        return 0;
    k += r;
    if (k >= s->n || t[k] != '.')
        return 0;
    k++;
    r = scan_run_len(s, k, is_b64url, JWT_SEGMENT_MAX);
    if (r > JWT_SEGMENT_MAX)
        return 0;
    k += r;
    /* JWE compact form has five segments. */
    for (extra = 0; extra < 2 && k + 1 < s->n && t[k] == '.' &&
                    is_b64url((unsigned char)t[k + 1]); extra++) {
        r = scan_run_len(s, k + 1, is_b64url, JWT_SEGMENT_MAX);
        if (r > JWT_SEGMENT_MAX)
            return 0;
        k += 1 + r;
    }
    scan_add(s, i, k, K_JWT, 0);
    return k;
}

static size_t det_slack_webhook(struct scan *s, size_t i)
{
    static const char *const paths[] = {"services/", "workflows/", "triggers/", NULL};
    const char *last;
    size_t k, r, j;

    if (!scan_has(s, i, "hooks.slack.com/", 16) || !scan_word_start(s, i))
        return 0;
    k = i + 16;
    for (j = 0; paths[j] != NULL; j++)
        if (scan_has(s, k, paths[j], strlen(paths[j])))
            break;
    if (paths[j] == NULL)
        return 0;
    k += strlen(paths[j]);
    r = scan_run_len(s, k, is_url_path, TOKEN_MAX);
    if (r < 20 || r > TOKEN_MAX)
        return 0;
    last = memrchr(s->t + k, '/', r);
    j = last != NULL ? (size_t)(last - s->t) + 1 : k;
    if (secret_text_mostly_one_byte(s->t + j, k + r - j))
        return 0;   /* .../services/T000/B000/XXXXXXXX */
    scan_add(s, k, k + r, K_SLACK_WEBHOOK, 0);
    return k + r;
}

/* Discord: discord.com/api/webhooks/ID/TOKEN (discordapp.com, ptb. and
 * canary. hosts, a /v10/ version); ID/TOKEN is replaced. */
static size_t det_discord_webhook(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, r, id;

    if (!scan_word_start(s, i))
        return 0;
    if (scan_has(s, i, "discord.com/api/", 16))
        k = i + 16;
    else if (scan_has(s, i, "discordapp.com/api/", 19))
        k = i + 19;
    else
        return 0;
    if (k < s->n && t[k] == 'v') {
        r = scan_run_len(s, k + 1, ascii_is_digit, 2);
        if (r == 0 || r > 2 || !scan_has(s, k + 1 + r, "/", 1))
            return 0;
        k += 2 + r;
    }
    if (!scan_has(s, k, "webhooks/", 9))
        return 0;
    id = k + 9;
    r = scan_run_len(s, id, ascii_is_digit, DISCORD_ID_MAX);
    if (r < DISCORD_ID_MIN || r > DISCORD_ID_MAX || !scan_has(s, id + r, "/", 1))
        return 0;
    k = id + r + 1;
    r = scan_run_len(s, k, is_b64url, DISCORD_TOKEN_MAX);
    if (r < DISCORD_TOKEN_MIN || r > DISCORD_TOKEN_MAX || !secret_text_two_classes(t + k, r) ||
        secret_text_mostly_one_byte(t + k, r))
        return 0;
    scan_add(s, id, k + r, K_DISCORD_WEBHOOK, 0);
    return k + r;
}

/* Microsoft Teams: HOST.webhook.office.com/webhookb2/... and the older
 * outlook.office.com/webhook/..., the path holding /IncomingWebhook/; the
 * path is replaced. */
static size_t det_teams_webhook(struct scan *s, size_t i)
{
    size_t k, r;

    if (scan_has(s, i, "webhook.office.com/webhookb2/", 29) && i > 0 && s->t[i - 1] == '.')
        k = i + 29;
    else if (scan_has(s, i, "outlook.office.com/webhook/", 27) && scan_word_start(s, i))
        k = i + 27;
    else
        return 0;
    r = scan_run_len(s, k, is_teams_path, TEAMS_PATH_MAX);
    if (r < TEAMS_PATH_MIN || r > TEAMS_PATH_MAX ||
        memmem(s->t + k, r, "/IncomingWebhook/", 17) == NULL)
        return 0;
    scan_add(s, k, k + r, K_TEAMS_WEBHOOK, 0);
    return k + r;
}

size_t secret_tokens_at(struct scan *s, size_t i, char c1)
{
    switch (s->t[i]) {
    case 'A':
        if (c1 == 'K' || c1 == 'S' || c1 == 'I' || c1 == 'C')
            return det_capital_a(s, i);
        break;
    case 'S':
        if (c1 == 'G')
            return det_sendgrid(s, i);
        break;
    case 'g':
        if (c1 == 'h' || c1 == 'i' || c1 == 'l')
            return det_g(s, i);
        break;
    case 'x':
        if (c1 == 'o' || c1 == 'a')
            return det_x(s, i);
        break;
    case 's':
    case 'r':
        if (c1 == 'k' || c1 == 'z')
            return det_s_r(s, i);
        if (c1 == '.' && s->t[i] == 's')
            return det_vault_legacy(s, i);
        break;
    case 'p':
        if (c1 == 'y')
            return det_pypi(s, i);
        break;
    case 'e':
        if (c1 == 'y')
            return det_jwt(s, i);
        break;
    case 'h':
        if (c1 == 'o')
            return det_slack_webhook(s, i);
        if (c1 == 'v')
            return det_vault(s, i);
        if (c1 == 'f' && scan_has(s, i, "hf_", 3))
            return token(s, i, 3, ascii_is_alnum, 30, 40, K_HUGGINGFACE);
        break;
    default:
        break;
    }
    return 0;
}

size_t secret_tokens_webhook_at(struct scan *s, size_t i, char c1)
{
    if (s->t[i] == 'd' && c1 == 'i')
        return det_discord_webhook(s, i);
    if ((s->t[i] == 'w' && c1 == 'e') || (s->t[i] == 'o' && c1 == 'u'))
        return det_teams_webhook(s, i);
    return 0;
}
