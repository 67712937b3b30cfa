/* secret_assign.c - the assignment rule; see secret_assign.h. The rules
 * are described in the table at the top of secret_rules.c.
 */
#include "worker/secret_assign.h"

#include <string.h>

#include "worker/secret_placeholder.h"
#include "worker/secret_text.h"

/* Bytes after a name field (name: DB_PASSWORD) within which its value
 * field must start; it must also start on the same or the next line. */
#define PAIR_WINDOW 512
/* String literals joined into one value ("a" + "b", "a" \ newline "b"). */
#define CHAIN_PIECES_MAX 8
/* Bytes of blanks and line breaks between two joined literals. */
#define CHAIN_GAP_MAX 64
/* Bytes of a Terraform variable block searched for its default. */
#define BLOCK_WINDOW 1024
/* Bytes of an expression searched for the literal after its or, || or ??
 * (os.getenv("X") or "..."). */
#define FALLBACK_SCAN_MAX 256

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
    if (secret_placeholder_is(v, n))
        return -1;
    if ((nflags & SECRET_NAME_AWS) != 0 && b64)
        return K_AWS_SECRET;
    if ((nflags & SECRET_NAME_RAZORPAY) != 0 && alnum)
        return K_RAZORPAY_SECRET;
    if (secret_text_generic_ok(v, n, quoted) ||
        ((nflags & SECRET_NAME_PASSWORD) != 0 && secret_text_password_ok(v, n, quoted)))
        return K_GENERIC;
    return -1;
}

/* Bytes that end an unquoted value. */
static int ends_unquoted(unsigned char c)
{
    return is_space(c) || is_quote(c) || c == ';' || c == ',' || c == ')' || c == ']' ||
           c == '}' || c == '&' || c == '\0';
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

    p = scan_skip_blanks(s, p);
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

/* Lines of a YAML block scalar read as the value. */
#define BLOCK_LINES_MAX 64

/* The text lines of a YAML block scalar (blank lines have none). */
struct block {
    size_t start[BLOCK_LINES_MAX];   /* offset of a line's text */
    size_t end[BLOCK_LINES_MAX];     /* offset past it, trailing blanks cut */
    size_t n;
};

/* Reads the line at p: sets *ts to its first byte that is not a blank, *te
 * past its last, and returns the offset of its '\n' (or of the end of the
 * text), or 0 when it is longer than SECRET_VALUE_MAX bytes. */
static size_t block_line(const struct scan *s, size_t p, size_t *ts, size_t *te)
{
    const char *t = s->t;
    size_t a = p, e;

    while (a < s->n && a - p <= SECRET_VALUE_MAX && is_blank((unsigned char)t[a]))
        a++;
    for (e = a; e < s->n && e - p <= SECRET_VALUE_MAX && t[e] != '\n'; e++)
        ;
    if (e - p > SECRET_VALUE_MAX)
        return 0;
    *ts = a;
    *te = e;
    while (*te > a && (is_blank((unsigned char)t[*te - 1]) || t[*te - 1] == '\r'))
        (*te)--;
    return e;
}

/* A YAML block scalar: when the unquoted value t[vs..ve) is an indicator
 * (| > |- >- |+ >+) ending its line, fills b with the text of the block's
 * lines: the indented line after it and every line below as indented or
 * more, or blank (at most BLOCK_LINES_MAX, each at most SECRET_VALUE_MAX
 * bytes), and returns 1; else 0. Moves assign_floor past what it read. */
static int block_scalar(struct scan *s, size_t vs, size_t ve, struct block *b)
{
    const char *t = s->t;
    size_t k = ve, ts, te, e, indent = 0;

    if (ve - vs < 1 || ve - vs > 2 || (t[vs] != '|' && t[vs] != '>') ||
        (ve - vs == 2 && t[vs + 1] != '-' && t[vs + 1] != '+'))
        return 0;
    if (k < s->n && t[k] == '\r')
        k++;
    if (k >= s->n || t[k] != '\n')
        return 0;
    b->n = 0;
    for (k++; k < s->n && b->n < BLOCK_LINES_MAX; k = e + 1) {
        if ((e = block_line(s, k, &ts, &te)) == 0)
            break;
        if (te == ts) {
            if (b->n == 0)
                break;     /* the block's first line holds its text */
            s->assign_floor = e;
            continue;      /* a blank line inside the block */
        }
        if (b->n == 0)
            indent = ts - k;
        if (ts - k < indent || indent == 0)
            break;         /* a block's text is indented; a dedent ends it */
        s->assign_floor = e;
        b->start[b->n] = ts;
        b->end[b->n] = te;
        b->n++;
    }
    return b->n > 0;
}

/* Adds a span for each line of the block b when one line passes the value
 * filters under the name's flags (a "Bearer " prefix stays in the text). */
static void block_value(struct scan *s, struct block *b, unsigned nflags)
{
    static const char *const schemes[] = {"bearer ", "basic ", "token ", NULL};
    unsigned vflags[BLOCK_LINES_MAX];
    int kinds[BLOCK_LINES_MAX], kind = -1;
    size_t i, w;

    for (w = 0; schemes[w] != NULL; w++)
        if (scan_prefix_ci(s->t + b->start[0], b->end[0] - b->start[0], schemes[w])) {
            b->start[0] += strlen(schemes[w]);
            break;
        }
    for (i = 0; i < b->n; i++) {
        kinds[i] = classify_value(s->t + b->start[i], b->end[i] - b->start[i], 1, nflags,
                                  &vflags[i]);
        if (kind < 0)
            kind = kinds[i];
    }
    if (kind < 0)
        return;
    for (i = 0; i < b->n; i++)
        scan_add(s, b->start[i], b->end[i], kinds[i] >= 0 ? kinds[i] : kind,
                 nflags | vflags[i]);
}

/* Reads the one-line quoted literal at t[p]: sets [*vs, *ve) to its text
 * and returns the offset past its closing quote, or 0. */
static size_t quoted_literal(const struct scan *s, size_t p, size_t *vs, size_t *ve)
{
    const char *t = s->t;
    size_t k;
    char q;

    if (p >= s->n || !is_quote((unsigned char)t[p]))
        return 0;
    q = t[p];
    for (k = p + 1; k < s->n && k - p <= SECRET_VALUE_MAX && t[k] != q && t[k] != '\n'; k++)
        if (t[k] == '\\')
            k++;
    if (k >= s->n || t[k] != q)
        return 0;
    *vs = p + 1;
    *ve = k;
    return k + 1;
}

/* Offset past the fallback operator (or, ||, ??) at t[k], or 0. */
static size_t fallback_op(const struct scan *s, size_t k)
{
    const char *t = s->t;

    if (k + 1 >= s->n)
        return 0;
    if ((t[k] == '|' || t[k] == '?') && t[k + 1] == t[k] && (k + 2 >= s->n || t[k + 2] != '='))
        return k + 2;
    if (t[k] == 'o' && t[k + 1] == 'r' && k > 0 && is_blank((unsigned char)t[k - 1]) &&
        k + 2 < s->n && is_blank((unsigned char)t[k + 2]))
        return k + 2;
    return 0;
}

/* 1 when nothing but the end of a statement or an argument, or a comment,
 * follows a literal closed at t[k - 1]: the literal is a whole operand. */
static int operand_ends(const struct scan *s, size_t k)
{
    k = scan_skip_blanks(s, k);
    return k >= s->n || ascii_in_set(s->t[k], "\r\n;,)]}#/");
}

int secret_assign_default_at(const struct scan *s, size_t p, size_t *vs, size_t *ve)
{
    size_t e;

    p = scan_skip_blanks(s, p);
    if (p >= s->n)
        return 0;
    /* os.getenv("X") or "...", ENV["X"] || "...": the literal ends it */
    if ((e = fallback_op(s, p)) != 0)
        return (e = quoted_literal(s, scan_skip_blanks(s, e), vs, ve)) != 0 &&
               operand_ends(s, e);
    /* ENV.fetch("X") { "..." }: a Ruby block that only returns a literal */
    if (s->t[p] != '{' || (e = quoted_literal(s, scan_skip_blanks(s, p + 1), vs, ve)) == 0)
        return 0;
    e = scan_skip_blanks(s, e);
    return e < s->n && s->t[e] == '}';
}

/* 1 when the byte before the blanks before t[k] is a closing parenthesis:
 * a call's end, where a Ruby block may follow (ENV.fetch("X") { ... }). */
static int after_call(const struct scan *s, size_t k)
{
    size_t j = k;

    while (j > 0 && k - j < ASSIGN_BLANKS_MAX && is_blank((unsigned char)s->t[j - 1]))
        j--;
    return j > 0 && s->t[j - 1] == ')';
}

/* The literal default of an expression (os.getenv("X") or "...",
 * ENV["X"] || "...", config.get('x') ?? '...', ENV.fetch("X") { "..." }):
 * from the unquoted value at p, reads at most FALLBACK_SCAN_MAX bytes of one
 * line, skipping string literals and brackets, for an or, || or ?? followed
 * by a quoted literal that ends the expression, or a block holding only a
 * literal after a call; *ve is the end of the unquoted value. Sets
 * [*vs, *ve) to the literal's text and returns 1 (moving assign_floor past
 * it), else 0. */
static int fallback_literal(struct scan *s, size_t p, size_t *vs, size_t *ve)
{
    const char *t = s->t;
    size_t k, e, hi = s->n - p > FALLBACK_SCAN_MAX ? p + FALLBACK_SCAN_MAX : s->n;
    int depth = 0;
    char q;

    /* only a call or a subscript (os.getenv(, ENV[), or a word followed by
     * the operator (process.env.X ||), is read on */
    if (memchr(t + p, '(', *ve - p) == NULL && memchr(t + p, '[', *ve - p) == NULL &&
        fallback_op(s, scan_skip_blanks(s, *ve)) == 0)
        return 0;
    for (k = p; k < hi; k++) {
        if (t[k] == '\n' || t[k] == ';' || t[k] == '#')
            return 0;
        if (is_quote((unsigned char)t[k])) {
            q = t[k];
            for (k++; k < hi && t[k] != q && t[k] != '\n'; k++)
                if (t[k] == '\\')
                    k++;
            if (k >= hi || t[k] != q)
                return 0;
            continue;
        }
        if (t[k] == '{' && depth == 0 && after_call(s, k) &&
            secret_assign_default_at(s, k, vs, ve)) {
            if (*ve + 1 > s->assign_floor)
                s->assign_floor = *ve + 1;
            return 1;
        }
        if (t[k] == '(' || t[k] == '[' || t[k] == '{') {
            depth++;
            continue;
        }
        if (t[k] == ')' || t[k] == ']' || t[k] == '}') {
            if (--depth < 0)
                return 0;
            continue;
        }
        if (depth > 0 || (e = fallback_op(s, k)) == 0)
            continue;
        e = scan_skip_blanks(s, e);
        if (e >= s->n || !is_quote((unsigned char)t[e]))
            continue;     /* a || b || "...": read on */
        q = t[e];
        for (k = e + 1; k < s->n && k - e <= SECRET_VALUE_MAX && t[k] != q && t[k] != '\n'; k++)
            if (t[k] == '\\')
                k++;
        if (k >= s->n || t[k] != q || !operand_ends(s, k + 1))
            return 0;
        *vs = e + 1;
        *ve = k;
        if (k + 1 > s->assign_floor)
            s->assign_floor = k + 1;
        return 1;
    }
    return 0;
}

/* Offset past the blanks and at most two line breaks from p (bounded by
 * CHAIN_GAP_MAX); *breaks gets the line breaks skipped. */
static size_t skip_gap(const struct scan *s, size_t p, int *breaks)
{
    size_t k = p;

    *breaks = 0;
    while (k < s->n && k - p < CHAIN_GAP_MAX && (is_space((unsigned char)s->t[k]))) {
        if (s->t[k] == '\n' && ++*breaks > 2)
            break;
        k++;
    }
    return k;
}

size_t secret_assign_chain(const struct scan *s, size_t p, int in_parens, struct chain *c)
{
    const char *t = s->t;
    size_t k = p, e, j, pieces = 0, ps[CHAIN_PIECES_MAX], pe[CHAIN_PIECES_MAX];
    int breaks;
    char q;

    c->len = 0;
    c->end = p;
    while (pieces < CHAIN_PIECES_MAX && k < s->n && is_quote((unsigned char)t[k])) {
        q = t[k];
        for (e = k + 1; e < s->n && e - k <= SECRET_VALUE_MAX && t[e] != q && t[e] != '\n'; e++)
            if (t[e] == '\\')
                e++;
        if (e >= s->n || t[e] != q)
            break;
        ps[pieces] = k + 1;
        pe[pieces] = e;
        pieces++;
        c->end = e + 1;
        j = scan_skip_blanks(s, e + 1);
        if (j < s->n && t[j] == '+')
            j = skip_gap(s, j + 1, &breaks);
        else if (j + 1 < s->n && t[j] == '\\' && (t[j + 1] == '\n' || t[j + 1] == '\r'))
            j = skip_gap(s, j + 1, &breaks);
        else if (in_parens && j < s->n && (t[j] == '\n' || t[j] == '\r'))
            j = skip_gap(s, j, &breaks);
        k = j;
    }
    if (pieces == 0)
        return 0;
    c->start = ps[0];
    c->stop = pe[pieces - 1];
    if (pieces == 1)
        return 1;      /* one literal: its text is not copied */
    for (k = 0; k < pieces; k++) {
        if (c->len + (pe[k] - ps[k]) > sizeof(c->text))
            return 0;
        memcpy(c->text + c->len, t + ps[k], pe[k] - ps[k]);
        c->len += pe[k] - ps[k];
    }
    return pieces;
}

/* Adds the span of a value made of joined literals (a chain of at least
 * two) when it passes the value filters under the name's flags. */
static void chain_value(struct scan *s, const struct chain *c, unsigned nflags)
{
    unsigned vflags;
    int kind = classify_value(c->text, c->len, 1, nflags, &vflags);

    if (kind >= 0)
        scan_add(s, c->start, c->stop, kind, nflags | vflags);
    if (c->end > s->assign_floor)
        s->assign_floor = c->end;
}

/* Adds the span of the quoted value t[vs..ve) (an "Authorization" scheme
 * word before it left in the text) when it passes the value filters under
 * the name's flags. */
static void quoted_value(struct scan *s, size_t vs, size_t ve, unsigned nflags)
{
    static const char *const schemes[] = {"bearer ", "basic ", "token ", NULL};
    unsigned vflags;
    size_t w;
    int kind;

    for (w = 0; schemes[w] != NULL; w++)
        if (scan_prefix_ci(s->t + vs, ve - vs, schemes[w])) {
            vs += strlen(schemes[w]);
            break;
        }
    kind = classify_value(s->t + vs, ve - vs, 1, nflags, &vflags);
    if (kind >= 0)
        scan_add(s, vs, ve, kind, nflags | vflags);
}

/* The assignment rule for a name t[ns..ne) and a value from val_from. A
 * ':' operator may be a type annotation: token: str = "..." reads on. A
 * tight ':' (no blank after it, name not quoted) only takes a quoted value:
 * {token:'...'} is an assignment, "urn:oauth:grant-type" is not. A pair of
 * strings in brackets (auth=("user", "password")) gives its second. */
static void det_value(struct scan *s, size_t ns, size_t ne, size_t val_from, int colon,
                      int tight, unsigned how)
{
    static const char *const schemes[] = {"bearer ", "basic ", "token ", NULL};
    int quoted_only = (how & VALUE_QUOTED_ONLY) != 0;
    size_t k, vs, ve, w;
    unsigned nflags, vflags;
    int quoted, kind, breaks;

    nflags = secret_text_name_flags(s->t, ns, ne);
    if ((nflags & SECRET_NAME_LISTED) == 0)
        return;
    k = scan_skip_blanks(s, val_from);
    if (k < s->n && s->t[k] == '(') {
        /* API_KEY = (\n "..." \n "..." \n): implicit concatenation */
        size_t q = skip_gap(s, k + 1, &breaks);
        struct chain c;

        if (breaks > 0 && secret_assign_chain(s, q, 1, &c) >= 2) {
            chain_value(s, &c, nflags);
            return;
        }
    }
    w = k < s->n ? scan_skip_blanks(s, k + 1) : k;
    if (k < s->n && s->t[k] == '(' && !quoted_only && w < s->n &&
        !is_quote((unsigned char)s->t[w])) {
        /* token = (os.getenv("X") or "..."): only the literal default */
        if (read_value(s, k + 1, 0, &vs, &ve, &quoted) == 0 && !quoted &&
            fallback_literal(s, vs, &vs, &ve))
            quoted_value(s, vs, ve, nflags);
        return;
    }
    if (k < s->n && (s->t[k] == '(' || s->t[k] == '[')) {
        /* auth=("user", "password"): the second of a pair of strings */
        if (read_value(s, k + 1, 1, &vs, &ve, &quoted) < 0)
            return;
        k = scan_skip_blanks(s, ve + 1);
        if (k >= s->n || s->t[k] != ',')
            return;
        val_from = k + 1;
        quoted_only = 1;
    }
    if (read_value(s, val_from, quoted_only, &vs, &ve, &quoted) < 0)
        return;
    if (colon && !quoted) {
        k = scan_skip_blanks(s, ve);
        if (k < s->n && s->t[k] == '=' && (k + 1 >= s->n || s->t[k + 1] != '=')) {
            if (read_value(s, k + 1, 0, &vs, &ve, &quoted) < 0)
                return;
        } else if (tight) {
            return;
        }
    }
    if (quoted) {
        struct chain c;

        if (secret_assign_chain(s, vs - 1, 0, &c) >= 2) {
            chain_value(s, &c, nflags);
            return;
        }
    }
    if (!quoted) {
        struct block b;

        if (block_scalar(s, vs, ve, &b)) {
            block_value(s, &b, nflags);
            return;
        }
        if ((how & VALUE_LITERAL) == 0 && fallback_literal(s, vs, &vs, &ve))
            quoted = 1;
    }
    for (w = 0; schemes[w] != NULL; w++) {
        if (quoted && scan_prefix_ci(s->t + vs, ve - vs, schemes[w])) {
            vs += strlen(schemes[w]);
            break;
        }
        /* Authorization: Bearer abc... (a header line): the next word. */
        if (!quoted && ve - vs == strlen(schemes[w]) - 1 && ve < s->n && s->t[ve] == ' ' &&
            scan_prefix_ci(s->t + vs, ve - vs + 1, schemes[w])) {
            if (read_value(s, ve, 0, &vs, &ve, &quoted) < 0 || quoted)
                return;
            break;
        }
    }
    kind = classify_value(s->t + vs, ve - vs, quoted || (how & VALUE_LITERAL) != 0, nflags,
                          &vflags);
    if (kind >= 0)
        scan_add(s, vs, ve, kind, nflags | vflags);
}

/* 1 when the name t[ns..ne) is one of words (lower case), ignoring case. */
static int name_is(const struct scan *s, size_t ns, size_t ne, const char *const *words)
{
    size_t w;

    for (w = 0; words[w] != NULL; w++)
        if (ne - ns == strlen(words[w]) && scan_prefix_ci(s->t + ns, ne - ns, words[w]))
            return 1;
    return 0;
}

/* Offset of the end of the line after the one holding p, at most
 * PAIR_WINDOW bytes on. */
static size_t pair_window_end(const struct scan *s, size_t p)
{
    size_t hi = s->n - p > PAIR_WINDOW ? p + PAIR_WINDOW : s->n;
    const char *q = memchr(s->t + p, '\n', hi - p);

    if (q == NULL)
        return hi;
    q = memchr(q + 1, '\n', (size_t)(s->t + hi - (q + 1)));
    return q != NULL ? (size_t)(q - s->t) : hi;
}

/* A name field and its value field (name: DB_PASSWORD then value: "...";
 * {"name": "API_TOKEN", "value": "..."}; ParameterKey=DbPassword,
 * ParameterValue=...; <add key="StripeApiKey" value="..."/>): a name field
 * whose value is a secret name is remembered for a value field starting
 * on the same or the next line. Returns 1 when t[ns..ne) was one of the
 * two fields (handled), else 0: also for a name field whose value names
 * no secret, which the assignment rule judges then. */
static int det_pair(struct scan *s, size_t ns, size_t ne, size_t from)
{
    static const char *const name_fields[] = {"name", "key", "parameterkey", NULL};
    static const char *const value_fields[] = {"value", "parametervalue", "default", NULL};
    size_t vs, ve;
    int quoted;

    if (name_is(s, ns, ne, value_fields)) {
        if (s->pend_until == 0 || ns >= s->pend_until)
            return 0;
        s->pend_until = 0;
        det_value(s, s->pend_ns, s->pend_ne, from, 0, 0, 0);
        return 1;
    }
    if (!name_is(s, ns, ne, name_fields))
        return 0;
    s->pend_until = 0;    /* a new pair starts */
    /* Not a secret's name: the field is judged as any other assignment
     * (a URL's &key=<credential> is one). */
    if (read_value(s, from, 0, &vs, &ve, &quoted) < 0 || ve - vs > SECRET_NAME_MAX ||
        (secret_text_name_flags(s->t, vs, ve) & SECRET_NAME_LISTED) == 0)
        return 0;
    s->pend_ns = vs;
    s->pend_ne = ve;
    s->pend_until = pair_window_end(s, ve);
    return 1;
}

void secret_assign_block_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k, ns, ne, hi;
    const char *close;

    if (!scan_has(s, i, "variable", 8) || !scan_word_start(s, i))
        return;
    k = scan_skip_blanks(s, i + 8);
    if (k == i + 8 || k >= s->n || t[k] != '"')
        return;
    ns = k + 1;
    ne = ns + scan_run_len(s, ns, is_name_char, SECRET_NAME_MAX);
    if (ne - ns > SECRET_NAME_MAX || ne >= s->n || t[ne] != '"')
        return;
    k = scan_skip_blanks(s, ne + 1);
    if (k >= s->n || t[k] != '{' ||
        (secret_text_name_flags(t, ns, ne) & SECRET_NAME_LISTED) == 0)
        return;
    hi = s->n - k > BLOCK_WINDOW ? k + BLOCK_WINDOW : s->n;
    close = memchr(t + k, '}', hi - k);
    s->pend_ns = ns;
    s->pend_ne = ne;
    s->pend_until = close != NULL ? (size_t)(close - t) : hi;
}

void secret_assign_span(struct scan *s, size_t ns, size_t ne, size_t vs, size_t ve, int quoted)
{
    unsigned nflags = secret_text_name_flags(s->t, ns, ne), vflags;
    int kind;

    if ((nflags & SECRET_NAME_LISTED) == 0)
        return;
    kind = classify_value(s->t + vs, ve - vs, quoted, nflags, &vflags);
    if (kind >= 0)
        scan_add(s, vs, ve, kind, nflags | vflags);
}

void secret_assign_value(struct scan *s, size_t ns, size_t ne, size_t from, unsigned how)
{
    det_value(s, ns, ne, from, 0, 0, how);
}

/* An '=' or ':' at i: finds the name before it and reads the value. */
void secret_assign_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t j = i, ne, from;
    int name_quoted = 0;
    char next = i + 1 < s->n ? t[i + 1] : '\0';
    char prev = i > 0 ? t[i - 1] : '\0';

    if (i < s->assign_floor)
        return;
    if (t[i] == '=') {
        if (next == '=' || next == '~' || ascii_in_set(prev, "=!<>"))
            return;   /* a comparison */
        from = next == '>' ? i + 2 : i + 1;
        if (i >= 2 && (prev == '|' || prev == '?') && t[i - 2] == prev)
            j = i - 2;    /* a default assigned: x ||= "...", x ??= "..." */
    } else {
        if (next == ':' || prev == ':')
            return;   /* a scope: std::x */
        from = next == '=' ? i + 2 : i + 1;
    }
    j = scan_skip_blanks_back(s, j);
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
    if (j == ne || det_pair(s, j, ne, from))
        return;
    det_value(s, j, ne, from, t[i] == ':' && next != '=',
              t[i] == ':' && !is_blank((unsigned char)next) && !name_quoted, 0);
}

/* #define NAME "value" */
void secret_assign_define_at(struct scan *s, size_t i)
{
    const char *t = s->t;
    size_t k = scan_skip_blanks(s, i + 1), ns, b;

    if (i < s->assign_floor || !scan_has(s, k, "define", 6))
        return;
    k += 6;
    b = scan_skip_blanks(s, k);
    if (b == k)
        return;
    ns = k = b;
    while (k < s->n && k - ns < SECRET_NAME_MAX && ascii_is_alnum_us((unsigned char)t[k]))
        k++;
    if (k == ns || k >= s->n || !is_blank((unsigned char)t[k]))
        return;
    det_value(s, ns, k, k, 0, 0, VALUE_QUOTED_ONLY);
}
