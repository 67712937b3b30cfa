/* secret_words.c - secrets whose name and value are separate words; see
 * secret_words.h. The rules are described in the table at the top of
 * secret_rules.c.
 */
#include "worker/secret_words.h"

#include <string.h>

#include "worker/secret_argv.h"
#include "worker/secret_assign.h"
#include "worker/secret_placeholder.h"
#include "worker/secret_text.h"

/* Bytes of a long option's name (--db-password). */
#define OPTION_NAME_MAX 64
/* Bytes after a .netrc machine word (at the start of its line) within which
 * a login or password line below belongs to its entry. */
#define NETRC_WINDOW 512
/* Bytes of the client's global options read for login (docker --config
 * DIR --tlscacert FILE --tlscert FILE --tlskey FILE -H URL login: CI
 * scripts spell out long paths). A client word is searched from only
 * once (client_floor), so the size costs no time on adversarial input. */
#define LOGIN_SEARCH_MAX 1024

enum command {
    CMD_NONE,
    CMD_LOGIN,       /* docker login, podman login: -p VALUE */
    CMD_SSHPASS,     /* sshpass -p VALUE */
    CMD_MYSQL,       /* mysql -pVALUE (with a blank, -p prompts) */
    CMD_CURL,        /* curl -u user:VALUE, --user user:VALUE */
    CMD_NETRC,       /* machine HOST login USER password VALUE */
    CMD_CLIENT,      /* docker, podman, nerdctl: login may follow options */
    CMD_REDIS,       /* redis-cli -a VALUE */
    CMD_SQLCMD,      /* sqlcmd, bcp, osql -P VALUE */
    CMD_MONGO,       /* mongosh, mongo, mongodump... -p VALUE */
    CMD_LDAP,        /* ldapsearch, ldapadd... -w VALUE */
    CMD_SMB,         /* smbclient -U user%VALUE */
    CMD_ZIP,         /* zip -P VALUE */
    CMD_7Z,          /* 7z -pVALUE (with a blank, -p prompts) */
    CMD_TWINE,       /* twine upload -p VALUE */
    CMD_ARGV,        /* htpasswd, rabbitmqctl, net user, vault login: a
                        positional password or token (secret_argv.c) */
    CMD_COUNT
};

/* The short option by which a command takes a password. */
struct password_option {
    char letter;             /* -p; 0: none */
    char user_sep;           /* the value is USER<sep>PASSWORD (curl -u
                                user:VALUE), else 0 */
    int attached_only;       /* -pVALUE only: -p VALUE prompts */
};

static const struct password_option options[CMD_COUNT] = {
    [CMD_LOGIN] = {'p', 0, 0},  [CMD_SSHPASS] = {'p', 0, 0}, [CMD_MYSQL] = {'p', 0, 1},
    [CMD_CURL] = {'u', ':', 0}, [CMD_REDIS] = {'a', 0, 0},   [CMD_SQLCMD] = {'P', 0, 0},
    [CMD_MONGO] = {'p', 0, 0},  [CMD_LDAP] = {'w', 0, 0},    [CMD_SMB] = {'U', '%', 0},
    [CMD_ZIP] = {'P', 0, 0},    [CMD_7Z] = {'p', 0, 1},      [CMD_TWINE] = {'p', 0, 0},
};

struct command_word {
    const char *word;
    size_t len;              /* strlen(word) */
    enum command cmd;
};

#define WORD(w, cmd) {w, sizeof(w) - 1, cmd}

/* Sorted by their first two bytes, for the binary search of
 * find_command; among words sharing them, in the order they are tried
 * (docker login before docker). */
static const struct command_word commands[] = {
    WORD("7z", CMD_7Z),               WORD("7za", CMD_7Z),
    WORD("NET USER", CMD_ARGV),
    WORD("az login", CMD_LOGIN),      WORD("az acr login", CMD_LOGIN),
    WORD("bcp", CMD_SQLCMD),          WORD("buildah login", CMD_LOGIN),
    WORD("cf login", CMD_LOGIN),      WORD("cosign login", CMD_LOGIN),
    WORD("crane auth login", CMD_LOGIN), WORD("curl", CMD_CURL),
    WORD("docker login", CMD_LOGIN),  WORD("docker", CMD_CLIENT),
    WORD("helm registry login", CMD_LOGIN),
    WORD("htpasswd", CMD_ARGV),
    WORD("ldapsearch", CMD_LDAP),     WORD("ldapadd", CMD_LDAP),
    WORD("ldapmodify", CMD_LDAP),     WORD("ldapdelete", CMD_LDAP),
    WORD("ldapwhoami", CMD_LDAP),     WORD("ldappasswd", CMD_LDAP),
    WORD("machine", CMD_NETRC),       WORD("mariadb", CMD_MYSQL),
    WORD("mongosh", CMD_MONGO),       WORD("mongo", CMD_MONGO),
    WORD("mongodump", CMD_MONGO),     WORD("mongorestore", CMD_MONGO),
    WORD("mongoexport", CMD_MONGO),   WORD("mongoimport", CMD_MONGO),
    WORD("mysqldump", CMD_MYSQL),     WORD("mysqladmin", CMD_MYSQL),
    WORD("mysql", CMD_MYSQL),
    WORD("nerdctl login", CMD_LOGIN), WORD("nerdctl", CMD_CLIENT),
    WORD("net user", CMD_ARGV),
    WORD("notation login", CMD_LOGIN),
    WORD("oc login", CMD_LOGIN),      WORD("oras login", CMD_LOGIN),
    WORD("osql", CMD_SQLCMD),
    WORD("podman login", CMD_LOGIN),  WORD("podman", CMD_CLIENT),
    WORD("rabbitmqctl", CMD_ARGV),
    WORD("redis-cli", CMD_REDIS),     WORD("regctl registry login", CMD_LOGIN),
    WORD("skopeo login", CMD_LOGIN),  WORD("smbclient", CMD_SMB),
    WORD("sqlcmd", CMD_SQLCMD),       WORD("sshpass", CMD_SSHPASS),
    WORD("twine", CMD_TWINE),
    WORD("vault login", CMD_ARGV),
    WORD("zip", CMD_ZIP),
};

#define COMMANDS_N (sizeof(commands) / sizeof(commands[0]))

/* The first two bytes of a word, as one number in the table's order. */
static unsigned pair_key(const char *w)
{
    return (unsigned)(unsigned char)w[0] << 8 | (unsigned char)w[1];
}

/* Index of the first command word starting with the bytes c0 c1 (c1 may
 * be NUL), or COMMANDS_N when there is none. */
static size_t find_command(char c0, char c1)
{
    char key[2] = {c0, c1};
    unsigned k = pair_key(key);
    size_t lo = 0, hi = COMMANDS_N, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (pair_key(commands[mid].word) < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < COMMANDS_N && pair_key(commands[lo].word) == k ? lo : COMMANDS_N;
}

/* Notes the command cmd whose words are t[i..e), for the rest of its line.
 * Returns e. */
static size_t note_command(struct scan *s, size_t i, size_t e, enum command cmd)
{
    s->cmd = (int)cmd;
    s->cmd_at = i;
    s->cmd_checked = e;
    return e;
}

/* NAME VALUE at k (past "configure set", "ENV"): two words. */
static size_t det_name_value(struct scan *s, size_t k)
{
    size_t ns = scan_skip_blanks(s, k), ne;

    if (ns == k)
        return 0;
    ne = ns + scan_run_len(s, ns, is_name_char, SECRET_NAME_MAX);
    if (ne == ns || ne - ns > SECRET_NAME_MAX || ne >= s->n || !is_blank((unsigned char)s->t[ne]))
        return 0;
    secret_assign_value(s, ns, ne, ne, VALUE_LITERAL);
    return ne;
}

/* The command noted on the line holding i (a line ending in '\\'
 * continues), or CMD_NONE. Each byte between the command and i is looked
 * at once over the whole scan. */
static enum command current_command(struct scan *s, size_t i)
{
    const char *t = s->t, *q;
    size_t k = s->cmd_checked;

    if (s->cmd == CMD_NONE || i < k)
        return (enum command)s->cmd;
    while ((q = memchr(t + k, '\n', i - k)) != NULL) {
        k = (size_t)(q - t);
        if (k > 0 && t[k - 1] == '\r')
            k--;
        if (k == 0 || t[k - 1] != '\\') {
            s->cmd = CMD_NONE;
            break;
        }
        k = (size_t)(q - t) + 1;
    }
    s->cmd_checked = i;
    return (enum command)s->cmd;
}

/* Offset past the word login when only options of the client (and their
 * arguments) stand between t[k] and it on this line or the lines it
 * continues with '\\' (docker --config DIR login), within LOGIN_SEARCH_MAX
 * bytes; else 0, and client_floor moves to
 * where the search stopped: a client word before it (docker -v docker:/x
 * ...) would read the same words to the same end. */
static size_t login_after_options(struct scan *s, size_t k)
{
    const char *t = s->t;
    size_t hi = s->n - k > LOGIN_SEARCH_MAX ? k + LOGIN_SEARCH_MAX : s->n, b, e;
    int arg_ok = 0;

    while (k < hi) {
        for (b = k; k < hi; k++) {
            if (t[k] == '\\' && k + 1 < hi && t[k + 1] == '\n')
                k++;            /* a line continued */
            else if (t[k] == '\\' && k + 2 < hi && t[k + 1] == '\r' && t[k + 2] == '\n')
                k += 2;
            else if (!is_blank((unsigned char)t[k]))
                break;
        }
        if (k == b || k >= hi)
            break;
        for (e = k; e < hi && !is_space((unsigned char)t[e]) && !ascii_in_set(t[e], ";|&"); e++)
            ;
        if (e - k == 5 && memcmp(t + k, "login", 5) == 0 && scan_word_end(s, e))
            return e;
        if (t[k] == '-')
            arg_ok = memchr(t + k, '=', e - k) == NULL;   /* --config DIR */
        else if (arg_ok)
            arg_ok = 0;
        else
            break;      /* a subcommand other than login */
        k = e;
    }
    s->client_floor = k;
    return 0;
}

/* 1 when the password word at t[i] is a .netrc entry's, its machine on a
 * line above (within NETRC_WINDOW bytes): the line holding i starts, after
 * blanks, with the login or password token. */
static int netrc_entry_line(const struct scan *s, size_t i)
{
    const char *q;
    size_t ls;

    if (i < s->netrc_from || i >= s->netrc_until)
        return 0;
    q = memrchr(s->t + s->netrc_from, '\n', i - s->netrc_from);
    if (q == NULL)
        return 0;     /* the machine's own line: current_command's */
    ls = (size_t)(q - s->t) + 1;
    while (ls < i && is_blank((unsigned char)s->t[ls]))
        ls++;
    return ls == i || (scan_has(s, ls, "login", 5) && is_blank((unsigned char)s->t[ls + 5]));
}

/* 1 when only blanks stand between the start of its line and t[i]. */
static int line_start(const struct scan *s, size_t i)
{
    size_t j = i;

    while (j > 0 && i - j < ASSIGN_BLANKS_MAX && is_blank((unsigned char)s->t[j - 1]))
        j--;
    return j == 0 || s->t[j - 1] == '\n';
}

/* 1 when the word default at t[i] opens a .netrc default entry: at the
 * start of its line or after a .netrc entry on it, and followed by login
 * or password, or alone on its line (its tokens below). "default = x"
 * and "default:" are code. */
static int netrc_default(struct scan *s, size_t i)
{
    size_t k;

    if (!scan_has(s, i, "default", 7) || !scan_word_end(s, i + 7) ||
        (!line_start(s, i) && current_command(s, i) != CMD_NETRC))
        return 0;
    k = scan_skip_blanks(s, i + 7);
    return k >= s->n || s->t[k] == '\n' || s->t[k] == '\r' ||
           ((scan_has(s, k, "login", 5) || scan_has(s, k, "password", 8)) &&
            scan_word_end(s, k + (s->t[k] == 'l' ? 5 : 8)));
}

/* Notes the .netrc entry whose machine or default word at t[i] (len
 * bytes) starts it: its line, and, the word starting its line, the lines
 * below within NETRC_WINDOW bytes. Returns the offset past the word. */
static size_t netrc_entry(struct scan *s, size_t i, size_t len)
{
    if (line_start(s, i)) {
        /* machine HOST alone: login and password may follow below */
        s->netrc_from = i;
        s->netrc_until = s->n - i > NETRC_WINDOW ? i + NETRC_WINDOW : s->n;
    }
    return note_command(s, i, i + len, CMD_NETRC);
}

size_t secret_words_command_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    char c0 = t[i], c1 = i + 1 < s->n ? t[i + 1] : '\0';
    size_t w, len;

    if (i > 0 && !is_space((unsigned char)t[i - 1]) && !is_quote((unsigned char)t[i - 1]) &&
        t[i - 1] != '(' && t[i - 1] != ';' && t[i - 1] != '&' && t[i - 1] != '|')
        return 0;
    /* the first two bytes tell most words apart before any comparison */
    if (c0 == 'c' && scan_has(s, i, "configure set", 13) && scan_word_end(s, i + 13))
        return det_name_value(s, i + 13);
    if (c0 == 'E' && scan_has(s, i, "ENV", 3) && scan_word_end(s, i + 3) && line_start(s, i))
        return det_name_value(s, i + 3);
    if (c0 == 'p' && c1 == 'a' && scan_has(s, i, "password", 8) && scan_word_end(s, i + 8) &&
        (current_command(s, i) == CMD_NETRC || netrc_entry_line(s, i))) {
        secret_assign_value(s, i, i + 8, i + 8, VALUE_LITERAL);
        return i + 8;
    }
    if (c0 == 'd' && c1 == 'e' && netrc_default(s, i))
        return netrc_entry(s, i, 7);
    for (w = find_command(c0, c1);
         w < COMMANDS_N && commands[w].word[0] == c0 && commands[w].word[1] == c1; w++) {
        len = commands[w].len;
        if (!scan_has(s, i, commands[w].word, len) || !scan_word_end(s, i + len))
            continue;
        if (commands[w].cmd == CMD_CLIENT) {
            size_t e = i < s->client_floor ? 0 : login_after_options(s, i + len);

            if (e == 0)
                return i + len;
            return note_command(s, i, e, CMD_LOGIN);
        }
        if (commands[w].cmd == CMD_NETRC)
            return netrc_entry(s, i, len);
        if (commands[w].cmd == CMD_ARGV)
            return secret_argv_at(s, i, i + len);
        return note_command(s, i, i + len, commands[w].cmd);
    }
    return 0;
}

/* Adds the span of the password word t[vs..ve) (a literal: its quotes
 * stripped), or of the part after the first sep in it when sep is not 0
 * (user:VALUE), when it passes the value filters. */
static void add_word_value(struct scan *s, size_t vs, size_t ve, char sep)
{
    const char *q;

    if (sep != 0) {
        if ((q = memchr(s->t + vs, sep, ve - vs)) == NULL)
            return;
        vs = (size_t)(q - s->t) + 1;
    }
    if (vs < ve && !secret_placeholder_is(s->t + vs, ve - vs) &&
        secret_text_generic_ok(s->t + vs, ve - vs, 1))
        scan_add(s, vs, ve, K_GENERIC, SECRET_NAME_LISTED);
}

/* The word at k (an opening quote skipped): sets [*vs, *ve) and returns 1
 * when it has at most SECRET_VALUE_MAX bytes, else 0. */
static int word_at(const struct scan *s, size_t k, size_t *vs, size_t *ve)
{
    size_t e;

    if (k < s->n && is_quote((unsigned char)s->t[k]))
        k++;
    for (e = k; e < s->n && e - k <= SECRET_VALUE_MAX && !scan_word_end(s, e); e++)
        ;
    *vs = k;
    *ve = e;
    return e > k && e - k <= SECRET_VALUE_MAX;
}

/* 1 when the option name t[ns..ne) ends with lit. */
static int name_ends(const struct scan *s, size_t ns, size_t ne, const char *lit)
{
    size_t len = strlen(lit);

    return ne - ns >= len && memcmp(s->t + ne - len, lit, len) == 0;
}

/* -NAME VALUE or --NAME VALUE at i, the name from ns: a secret name's
 * value (--api-key VALUE, keytool's -storepass VALUE), openssl's and
 * apksigner's pass:VALUE after any option, a USER:VALUE pair of --creds
 * (skopeo, podman, buildah; also --creds=) and of curl's --user, and
 * curl's --oauth2-bearer TOKEN (also --oauth2-bearer=TOKEN). */
static void det_long_option(struct scan *s, size_t i, size_t ns)
{
    size_t ne = ns + scan_run_len(s, ns, is_b64url, OPTION_NAME_MAX), k, vs, ve;
    int pair, bearer;

    if (ne == ns || ne - ns > OPTION_NAME_MAX || ne >= s->n)
        return;
    pair = name_ends(s, ns, ne, "creds") ||
           (ne - ns == 4 && memcmp(s->t + ns, "user", 4) == 0 && current_command(s, i) == CMD_CURL);
    /* the option is curl's own name: no command needs noting */
    bearer = ne - ns == 13 && memcmp(s->t + ns, "oauth2-bearer", 13) == 0;
    if (s->t[ne] == '=' && (pair || bearer)) {
        if (word_at(s, ne + 1, &vs, &ve))
            add_word_value(s, vs, ve, pair ? ':' : 0);
        return;
    }
    if (!is_blank((unsigned char)s->t[ne]))
        return;
    k = scan_skip_blanks(s, ne);
    if (k < s->n && is_quote((unsigned char)s->t[k]) && scan_has(s, k + 1, "pass:", 5))
        k++;
    if (scan_has(s, k, "pass:", 5)) {
        /* openssl -passout pass:VALUE, apksigner --ks-pass pass:VALUE */
        if (word_at(s, k + 5, &vs, &ve))
            add_word_value(s, vs, ve, 0);
        return;
    }
    if (pair || bearer) {
        if (word_at(s, k, &vs, &ve))
            add_word_value(s, vs, ve, pair ? ':' : 0);
        return;
    }
    secret_assign_value(s, ns, ne, ne, VALUE_LITERAL);
}

void secret_words_option_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    const struct password_option *opt;
    enum command cmd;
    size_t k, vs, ve;

    if (i > 0 && !is_space((unsigned char)t[i - 1]) && !is_quote((unsigned char)t[i - 1]))
        return;
    if (scan_has(s, i, "--", 2)) {
        det_long_option(s, i, i + 2);
        return;
    }
    if (i + 2 >= s->n || !ascii_is_alpha((unsigned char)t[i + 1]))
        return;
    cmd = current_command(s, i);
    opt = &options[cmd];
    if (opt->letter == 0 || t[i + 1] != opt->letter) {
        if (ascii_is_alpha((unsigned char)t[i + 2]) && i + 3 < s->n &&
            ascii_is_alpha((unsigned char)t[i + 3]))
            det_long_option(s, i, i + 1);   /* -storepass VALUE, -passin pass:VALUE */
        return;
    }
    k = i + 2;
    if (k < s->n && is_blank((unsigned char)t[k])) {
        if (opt->attached_only)
            return;     /* mysql -p VALUE: -p prompts, VALUE is a database */
        k = scan_skip_blanks(s, k);
        if (k < s->n && t[k] == '-')
            return;     /* -p --next-option: no value, a prompt */
    } else if (k < s->n && t[k] == '=' && !opt->attached_only) {
        k++;            /* podman login -p=VALUE */
    }
    /* The option names a password; the value is a literal word. */
    if (word_at(s, k, &vs, &ve))
        add_word_value(s, vs, ve, opt->user_sep);
}

size_t secret_words_login_at(struct scan *s, size_t k)
{
    size_t w, len;

    if (k + 1 >= s->n)
        return 0;
    for (w = find_command(s->t[k], s->t[k + 1]);
         w < COMMANDS_N && pair_key(commands[w].word) == pair_key(s->t + k); w++) {
        len = commands[w].len;
        if ((commands[w].cmd != CMD_LOGIN && commands[w].cmd != CMD_CLIENT) ||
            !scan_has(s, k, commands[w].word, len) || !scan_word_end(s, k + len))
            continue;
        if (commands[w].cmd == CMD_LOGIN)
            return k + len;
        return k < s->client_floor ? 0 : login_after_options(s, k + len);
    }
    return 0;
}

int secret_words_login_noted(struct scan *s, size_t i)
{
    return current_command(s, i) == CMD_LOGIN;
}
