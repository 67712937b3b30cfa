/* secret_stdin.c - a literal password written to the standard input of a
 * login that reads it; see secret_stdin.h. The rules are described in the
 * table at the top of secret_rules.c.
 */
#include "worker/secret_stdin.h"

#include <string.h>

#include "worker/secret_placeholder.h"
#include "worker/secret_text.h"
#include "worker/secret_words.h"

/* Bytes of a piped login command's arguments searched for
 * --password-stdin (its options, \\-continued lines). */
#define STDIN_SEARCH_MAX 1024
/* Words between echo or printf and the value piped: an option (-n) or a
 * format ('%s'). */
#define ECHO_WORDS_MAX 1
/* Bytes of a here-document's delimiter word. */
#define HERE_DELIM_MAX 32

/* Bytes of the option at t[k] when it is --password-stdin or regctl's
 * --pass-stdin, ending its word; else 0. */
static size_t stdin_option(const struct scan *s, size_t k)
{
    if (k + 3 >= s->n || s->t[k + 2] != 'p' || s->t[k + 3] != 'a')
        return 0;
    if (scan_has(s, k, "--password-stdin", 16) && scan_word_end(s, k + 16))
        return 16;
    if (scan_has(s, k, "--pass-stdin", 12) && scan_word_end(s, k + 12))
        return 12;
    return 0;
}

/* 1 when the command from t[k] to its end (a line break not after '\\', or
 * a ; | &), within STDIN_SEARCH_MAX bytes, has the word --password-stdin
 * (or regctl's --pass-stdin). */
static int reads_password_stdin(const struct scan *s, size_t k)
{
    const char *t = s->t;
    size_t hi = s->n - k > STDIN_SEARCH_MAX ? k + STDIN_SEARCH_MAX : s->n;

    for (; k < hi; k++) {
        if (t[k] == '\n') {
            if (t[k - 1] == '\\' || (t[k - 1] == '\r' && t[k - 2] == '\\'))
                continue;      /* k > 1: a login word stands before */
            return 0;
        }
        if (t[k] == ';' || t[k] == '|' || t[k] == '&')
            return 0;
        if (t[k] == '-' && is_space((unsigned char)t[k - 1]) && stdin_option(s, k) > 0)
            return 1;
    }
    return 0;
}

/* The shell word that ends at t[k - 1]: a quoted string on one line or a
 * run of bytes that are no blank, quote or ; | & (, at most
 * SECRET_VALUE_MAX bytes. Sets [*ws, *we) to it (quotes included) and
 * returns 1, else 0. */
static int word_before(const struct scan *s, size_t k, size_t *ws, size_t *we)
{
    const char *t = s->t;
    size_t j = k;

    if (k == 0)
        return 0;
    if (is_quote((unsigned char)t[k - 1])) {
        for (j = k - 1; j > 0 && k - j <= SECRET_VALUE_MAX + 1 && t[j - 1] != t[k - 1] &&
                        t[j - 1] != '\n'; j--)
            ;
        if (j == 0 || t[j - 1] != t[k - 1])
            return 0;
        j--;
    } else {
        while (j > 0 && k - j <= SECRET_VALUE_MAX && !is_space((unsigned char)t[j - 1]) &&
               !is_quote((unsigned char)t[j - 1]) && !ascii_in_set(t[j - 1], ";|&("))
            j--;
    }
    *ws = j;
    *we = k;
    return j < k;
}

/* Offset of the blanks before t[k] (at least one), or k when none. */
static size_t blanks_before(const struct scan *s, size_t k)
{
    size_t j = k;

    while (j > 0 && k - j < ASSIGN_BLANKS_MAX && is_blank((unsigned char)s->t[j - 1]))
        j--;
    return j;
}

/* 1 when t[ws..we) is the word echo or printf starting a command. */
static int echo_word(const struct scan *s, size_t ws, size_t we)
{
    if (!((we - ws == 4 && scan_has(s, ws, "echo", 4)) ||
          (we - ws == 6 && scan_has(s, ws, "printf", 6))))
        return 0;
    return ws == 0 || is_space((unsigned char)s->t[ws - 1]) || ascii_in_set(s->t[ws - 1], ";|&(`");
}

/* The value echo or printf writes into the pipe at t[i] (echo VALUE |,
 * echo -n "VALUE" |, printf '%s' VALUE |, printf VALUE |): sets [*vs, *ve)
 * to its text, quotes stripped, and returns 1; else 0. */
static int echoed_value(const struct scan *s, size_t i, size_t *vs, size_t *ve)
{
    const char *t = s->t;
    size_t k, j, ws, we, words;

    if (!word_before(s, blanks_before(s, i), vs, ve))
        return 0;
    for (k = *vs, words = 0; ; words++, k = ws) {
        j = blanks_before(s, k);
        if (j == k || !word_before(s, j, &ws, &we))
            return 0;
        if (echo_word(s, ws, we))
            break;
        /* an option of echo (-n, -e) or a format of printf ('%s\n') */
        if (words == ECHO_WORDS_MAX || (t[ws] != '-' && memchr(t + ws, '%', we - ws) == NULL))
            return 0;
    }
    if (is_quote((unsigned char)t[*vs])) {
        (*vs)++;
        (*ve)--;
    }
    return 1;
}

/* 1 when the literal t[vs..ve) (its quotes stripped) is a password. */
static int password_value(const struct scan *s, size_t vs, size_t ve)
{
    return vs < ve && !secret_placeholder_is(s->t + vs, ve - vs) &&
           (secret_text_generic_ok(s->t + vs, ve - vs, 1) ||
            secret_text_password_ok(s->t + vs, ve - vs, 1));
}

static void add_password(struct scan *s, size_t vs, size_t ve)
{
    scan_add(s, vs, ve, K_GENERIC, SECRET_NAME_LISTED | SECRET_NAME_PASSWORD);
}

void secret_stdin_pipe_at(struct scan *s, size_t i)
{
    size_t k = scan_skip_blanks(s, i + 1), e, vs, ve;

    if (scan_has(s, k, "sudo ", 5))
        k = scan_skip_blanks(s, k + 5);
    e = k < s->n ? secret_words_login_at(s, k) : 0;
    if (e == 0 || !reads_password_stdin(s, e) || !echoed_value(s, i, &vs, &ve))
        return;
    /* The value is the password, a literal word. */
    if (password_value(s, vs, ve))
        add_password(s, vs, ve);
}

/* The login noted for the line holding i reads its standard input: the
 * value waiting for it, if any, is its password. */
void secret_stdin_option_at(struct scan *s, size_t i)
{
    if (stdin_option(s, i) == 0 || !secret_words_login_noted(s, i))
        return;
    s->stdin_cmd = s->cmd_at + 1;
    if (s->here_cmd == s->cmd_at + 1) {
        add_password(s, s->here_vs, s->here_ve);
        s->here_cmd = 0;
    }
}

/* The here-string's word at p (after blanks): a quoted string on its line
 * or a run of bytes that are no blank, quote or ; | & ( ). Sets [*vs, *ve)
 * to its text, quotes stripped, and returns the offset past it; 0 when
 * there is none within SECRET_VALUE_MAX bytes. */
static size_t here_string(const struct scan *s, size_t p, size_t *vs, size_t *ve)
{
    const char *t = s->t;
    size_t k;

    p = scan_skip_blanks(s, p);
    if (p < s->n && is_quote((unsigned char)t[p])) {
        for (k = p + 1; k < s->n && k - p <= SECRET_VALUE_MAX && t[k] != t[p] && t[k] != '\n';
             k++)
            ;
        if (k >= s->n || t[k] != t[p])
            return 0;
        *vs = p + 1;
        *ve = k;
        return k + 1;
    }
    for (k = p; k < s->n && k - p <= SECRET_VALUE_MAX && !is_space((unsigned char)t[k]) &&
                !is_quote((unsigned char)t[k]) && !ascii_in_set(t[k], ";|&()");
         k++)
        ;
    if (k == p || k - p > SECRET_VALUE_MAX)
        return 0;
    *vs = p;
    *ve = k;
    return k;
}

/* The line at p with leading tabs skipped when tabs is set (<<-): sets
 * [*ls, *le) to its text (a '\r' before its '\n' cut) and returns the
 * offset of its '\n' (or of the end of the text); 0 when it is longer
 * than SECRET_VALUE_MAX bytes. */
static size_t body_line(const struct scan *s, size_t p, int tabs, size_t *ls, size_t *le)
{
    const char *t = s->t;
    size_t a = p, e;

    while (tabs && a < s->n && a - p <= SECRET_VALUE_MAX && t[a] == '\t')
        a++;
    for (e = a; e < s->n && e - p <= SECRET_VALUE_MAX && t[e] != '\n'; e++)
        ;
    if (e - p > SECRET_VALUE_MAX)
        return 0;
    *ls = a;
    *le = e > a && t[e - 1] == '\r' ? e - 1 : e;
    return e;
}

/* The here-document whose operator's word starts at p (past << and an
 * optional '-', tabs: it was <<-): when its body, from the line after the
 * one holding p, is one line followed by the delimiter line, sets [*vs,
 * *ve) to that line's text and returns 1; else 0. Each line end's body is
 * read once (here_eol). */
static int here_document(struct scan *s, size_t p, int tabs, size_t *vs, size_t *ve)
{
    const char *t = s->t, *q;
    size_t ds, de, eol, e, ls, le;
    char quote = 0;

    p = scan_skip_blanks(s, p);
    if (p < s->n && (t[p] == '\'' || t[p] == '"' || t[p] == '\\'))
        quote = t[p++];
    for (ds = de = p; de < s->n && de - ds <= HERE_DELIM_MAX && ascii_is_alnum_us((unsigned char)t[de]);
         de++)
        ;
    if (de == ds || de - ds > HERE_DELIM_MAX ||
        ((quote == '\'' || quote == '"') && (de >= s->n || t[de] != quote)))
        return 0;
    /* the body starts after this line; its end found once per line */
    if (p < s->here_eol)
        return 0;
    q = memchr(t + p, '\n', s->n - p);
    eol = q != NULL ? (size_t)(q - t) : s->n;
    s->here_eol = eol + 1;
    if (eol >= s->n || (e = body_line(s, eol + 1, tabs, vs, ve)) == 0 || e >= s->n ||
        body_line(s, e + 1, tabs, &ls, &le) == 0)
        return 0;
    return le - ls == de - ds && memcmp(t + ls, t + ds, de - ds) == 0;
}

void secret_stdin_here_at(struct scan *s, size_t i)
{
    size_t vs, ve, end = 0;
    int tabs;

    if ((i > 0 && s->t[i - 1] == '<') || !secret_words_login_noted(s, i) ||
        s->here_cmd == s->cmd_at + 1)
        return;
    if (scan_has(s, i, "<<<", 3)) {
        if (i < s->here_floor || (end = here_string(s, i + 3, &vs, &ve)) == 0)
            return;
        s->here_floor = end;
    } else {
        tabs = scan_has(s, i, "<<-", 3);
        if (!here_document(s, i + 2 + (size_t)tabs, tabs, &vs, &ve))
            return;
    }
    if (!password_value(s, vs, ve))
        return;
    if (s->stdin_cmd == s->cmd_at + 1) {
        add_password(s, vs, ve);
        return;
    }
    /* --password-stdin may follow on the command's line */
    s->here_cmd = s->cmd_at + 1;
    s->here_vs = vs;
    s->here_ve = ve;
}
