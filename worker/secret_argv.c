/* secret_argv.c - passwords given as a command's positional argument; see
 * secret_argv.h. The rule is described in the table at the top of
 * secret_rules.c.
 */
#include "worker/secret_argv.h"

#include <string.h>

#include "worker/secret_placeholder.h"
#include "worker/secret_text.h"

/* Bytes of a command's arguments read, at most. */
#define ARGV_SCAN_MAX 512
/* Positional arguments kept, at most (the password is the third, at the
 * latest; one more tells htpasswd's last argument). */
#define ARGV_POS_MAX 4

/* One word of a command line. */
struct word {
    size_t s, e;             /* its text, quotes stripped */
    int quoted;
};

/* The arguments of one command. */
struct argv {
    struct word pos[ARGV_POS_MAX]; /* the positional arguments, in order */
    size_t npos;                   /* positional arguments read, may be more
                                      than ARGV_POS_MAX */
    struct word value;             /* the value of a NAME=VALUE word read
                                      (vault login token=...), else empty */
};

/* Offset past the blanks and '\'-continued line breaks at k (< hi). */
static size_t skip_blanks(const struct scan *s, size_t k, size_t hi)
{
    const char *t = s->t;

    while (k < hi) {
        if (is_blank((unsigned char)t[k]))
            k++;
        else if (t[k] == '\\' && k + 1 < hi && t[k + 1] == '\n')
            k += 2;
        else if (t[k] == '\\' && k + 2 < hi && t[k + 1] == '\r' && t[k + 2] == '\n')
            k += 3;
        else
            break;
    }
    return k;
}

/* Reads the word at *k into w and moves *k past it. Returns 0 at the end of
 * the command (or of t[0..hi)): a line break, an operator or a comment. */
static int next_word(const struct scan *s, size_t *k, size_t hi, struct word *w)
{
    const char *t = s->t, *q;
    size_t p = skip_blanks(s, *k, hi), e;

    if (p >= hi || is_space((unsigned char)t[p]) || ascii_in_set(t[p], ";|&<>)`#"))
        return 0;
    if (t[p] == '"' || t[p] == '\'') {
        q = memchr(t + p + 1, t[p], hi - p - 1);
        if (q == NULL || memchr(t + p + 1, '\n', (size_t)(q - t) - p - 1) != NULL)
            return 0;
        *w = (struct word){p + 1, (size_t)(q - t), 1};
        *k = (size_t)(q - t) + 1;
        return 1;
    }
    for (e = p; e < hi && !is_space((unsigned char)t[e]) && !ascii_in_set(t[e], ";|&<>"); e++)
        ;
    *w = (struct word){p, e, 0};
    *k = e;
    return 1;
}

static void add_positional(struct argv *a, const struct word *w)
{
    if (a->npos < ARGV_POS_MAX)
        a->pos[a->npos] = *w;
    a->npos++;
}

/* 1 when the word w is lit. */
static int word_is(const struct scan *s, const struct word *w, const char *lit)
{
    size_t n = strlen(lit);

    return w->e - w->s == n && memcmp(s->t + w->s, lit, n) == 0;
}

/* htpasswd [-cmBdpsDv2 ...] [-C cost] [-r rounds] -b FILE USER PASSWORD,
 * or -bn USER PASSWORD: the password, the last argument, or NULL. */
static const struct word *htpasswd_password(const struct scan *s, size_t *k, size_t hi,
                                            struct argv *a)
{
    struct word w;
    size_t j;
    int batch = 0, to_stdout = 0, takes_arg;

    while (next_word(s, k, hi, &w)) {
        if (a->npos > 0 || s->t[w.s] != '-' || w.quoted || w.e - w.s < 2) {
            add_positional(a, &w);
            continue;
        }
        takes_arg = 0;
        for (j = w.s + 1; j < w.e; j++) {
            batch |= s->t[j] == 'b';
            to_stdout |= s->t[j] == 'n';
            takes_arg |= s->t[j] == 'C' || s->t[j] == 'r';
        }
        if (takes_arg && !next_word(s, k, hi, &w))
            break;      /* -C COST: the cost is no positional */
    }
    j = to_stdout ? 1 : 2;
    return batch && a->npos == j + 1 ? &a->pos[j] : NULL;
}

/* rabbitmqctl [-n NODE] [-q] ... add_user|change_password|authenticate_user
 * USER PASSWORD: the password, or NULL. */
static const struct word *rabbitmqctl_password(const struct scan *s, size_t *k, size_t hi,
                                               struct argv *a)
{
    static const char *const with_arg[] = {"-n", "--node", "-t", "--timeout", "-p", "--vhost",
                                           "--formatter", NULL};
    struct word w;
    size_t j;

    while (next_word(s, k, hi, &w)) {
        if (w.quoted || s->t[w.s] != '-') {
            add_positional(a, &w);
            continue;
        }
        for (j = 0; with_arg[j] != NULL && !word_is(s, &w, with_arg[j]); j++)
            ;
        if (with_arg[j] != NULL && !next_word(s, k, hi, &w))
            break;
    }
    if (a->npos < 3 || !(word_is(s, &a->pos[0], "add_user") ||
                         word_is(s, &a->pos[0], "change_password") ||
                         word_is(s, &a->pos[0], "authenticate_user")))
        return NULL;
    return &a->pos[2];
}

/* net user NAME PASSWORD [/add] [/domain] ...: the password (not '*', a
 * prompt), or NULL. */
static const struct word *net_user_password(const struct scan *s, size_t *k, size_t hi,
                                            struct argv *a)
{
    struct word w;

    while (next_word(s, k, hi, &w))
        if (w.quoted || s->t[w.s] != '/')
            add_positional(a, &w);
    if (a->npos < 2 || word_is(s, &a->pos[1], "*"))
        return NULL;
    return &a->pos[1];
}

/* vault login [options] TOKEN, or token=TOKEN (-method=token): the
 * token, or NULL. Options are -name=value, or -name value for those
 * taking a value; other NAME=VALUE words are an auth method's (password=
 * is the generic rule's). The value of token= may be quoted. */
static const struct word *vault_login_token(const struct scan *s, size_t *k, size_t hi,
                                            struct argv *a)
{
    static const char *const with_arg[] = {"-method", "-path", "-address", "-namespace",
                                           "-ns", "-ca-cert", "-ca-path", "-client-cert",
                                           "-client-key", "-format", "-field", "-mfa",
                                           "-header", "-tls-server-name", "-wrap-ttl",
                                           NULL};
    const char *t = s->t, *q;
    struct word w;
    size_t j, v;

    while (next_word(s, k, hi, &w)) {
        if (!w.quoted && t[w.s] == '-') {
            for (j = 0; with_arg[j] != NULL && !word_is(s, &w, with_arg[j]); j++)
                ;
            if (with_arg[j] != NULL && !next_word(s, k, hi, &w))
                break;
            continue;
        }
        if (w.quoted || memchr(t + w.s, '=', w.e - w.s) == NULL) {
            add_positional(a, &w);
            continue;
        }
        if (w.e - w.s < 6 || memcmp(t + w.s, "token=", 6) != 0)
            continue;
        v = w.s + 6;
        if (v < w.e && (t[v] == '"' || t[v] == '\'')) {
            /* token="..." : the value runs to its closing quote */
            q = memchr(t + v + 1, t[v], hi - v - 1);
            if (q == NULL || memchr(t + v + 1, '\n', (size_t)(q - t) - v - 1) != NULL)
                break;
            a->value = (struct word){v + 1, (size_t)(q - t), 1};
            *k = (size_t)(q - t) + 1;
        } else {
            a->value = (struct word){v, w.e, 0};
        }
    }
    if (a->value.e > a->value.s)
        return &a->value;
    return a->npos == 1 && !word_is(s, &a->pos[0], "-") ? &a->pos[0] : NULL;
}

size_t secret_argv_at(struct scan *s, size_t i, size_t e)
{
    size_t hi = s->n - e > ARGV_SCAN_MAX ? e + ARGV_SCAN_MAX : s->n, k = e, n;
    struct argv a;
    const struct word *pw;

    if (i < s->argv_floor)
        return e;       /* an argument of the command read last */
    memset(&a, 0, sizeof(a));
    if (s->t[i] == 'h')
        pw = htpasswd_password(s, &k, hi, &a);
    else if (s->t[i] == 'r')
        pw = rabbitmqctl_password(s, &k, hi, &a);
    else if (s->t[i] == 'v')
        pw = vault_login_token(s, &k, hi, &a);
    else
        pw = net_user_password(s, &k, hi, &a);
    s->argv_floor = k;
    if (pw == NULL)
        return e;
    n = pw->e - pw->s;
    if (n == 0 || n > SECRET_VALUE_MAX || secret_placeholder_is(s->t + pw->s, n))
        return e;
    if (s->t[i] == 'v') {
        /* a token, not a password a person chose */
        if (secret_text_generic_ok(s->t + pw->s, n, 1))
            scan_add(s, pw->s, pw->e, K_VAULT, 0);
    } else if (secret_text_generic_ok(s->t + pw->s, n, 1) ||
               secret_text_password_ok(s->t + pw->s, n, pw->quoted)) {
        scan_add(s, pw->s, pw->e, K_GENERIC, SECRET_NAME_LISTED | SECRET_NAME_PASSWORD);
    }
    return e;
}
