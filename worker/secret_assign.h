/* secret_assign.h - the rule for values assigned to names that say they hold a
 * secret (NAME op VALUE, #define NAME "VALUE").
 */
#ifndef WK_SECRET_ASSIGN_H
#define WK_SECRET_ASSIGN_H

#include <stddef.h>

#include "worker/secret_scan.h"
#include "worker/secret_text.h"

/* Tries the assignment rule at an '=' or ':' at t[i]: adds the span of a
 * secret value assigned to a secret name. */
void secret_assign_at(struct scan *s, size_t i);

/* How secret_assign_value reads a value. */
#define VALUE_QUOTED_ONLY 0x1u  /* a quoted string only */
#define VALUE_LITERAL     0x2u  /* an unquoted value is a literal (a command
                                   line's word), not code that may name a
                                   variable */

/* The assignment rule's value part for a name found by another rule: when
 * t[ns..ne) names a secret (secret_text_name_flags), reads the value at
 * from (after blanks) as how says (VALUE_* bits) and adds its span when it
 * passes the value filters. */
void secret_assign_value(struct scan *s, size_t ns, size_t ne, size_t from, unsigned how);

/* The assignment rule's test for a value t[vs..ve) another rule has
 * delimited (an XML element's text): adds its span when t[ns..ne) names a
 * secret and the value passes the value filters, read as a string literal
 * when quoted. */
void secret_assign_span(struct scan *s, size_t ns, size_t ne, size_t vs, size_t ve, int quoted);

/* The literal a lookup falls back to, read at p just past the lookup's
 * closing bracket (after blanks): or, || or ?? then a quoted literal that
 * ends the operand (os.getenv("X") or "VALUE"), or a Ruby block holding
 * only a literal (ENV.fetch("X") { "VALUE" }). Returns 1 with [*vs, *ve)
 * set to the literal's text, else 0. Reads at most SECRET_VALUE_MAX bytes
 * and a few blanks. */
int secret_assign_default_at(const struct scan *s, size_t p, size_t *vs, size_t *ve);

/* String literals joined into one value: "a" + "b", "a" \ (line break)
 * "b", "a" "b", and inside brackets literals on successive lines. */
struct chain {
    size_t start;            /* offset of the first literal's text */
    size_t stop;             /* offset of the last literal's closing quote */
    size_t end;              /* offset past it */
    char text[SECRET_VALUE_MAX];  /* the literals' texts, joined */
    size_t len;              /* bytes of text */
};

/* Reads the chain of literals from the quote at t[p] (in_parens: a line
 * break also joins). Returns the number of literals read (at most 8), 0
 * when the joined text would exceed SECRET_VALUE_MAX bytes; c is set when
 * the result is at least 1 (text and len only when it is 2 or more). */
size_t secret_assign_chain(const struct scan *s, size_t p, int in_parens, struct chain *c);

/* Tries the Terraform rule at t[i]: variable "NAME" { ... default = VALUE
 * } with NAME naming a secret: the block's default field (before its
 * first '}', within 1 KiB) is NAME's value, as a name/value pair's. */
void secret_assign_block_at(struct scan *s, size_t i);

/* Tries the rule for #define NAME "VALUE" at a '#' at t[i]. */
void secret_assign_define_at(struct scan *s, size_t i);

#endif
