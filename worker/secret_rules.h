/* secret_rules.h - the secret detectors behind redact.c: one matcher per
 * kind of secret (the rule table is at the top of secret_rules.c), a pass
 * for bare secrets near AWS and Razorpay key ids and Twilio account SIDs,
 * and the relabelling of generic values by their neighbours. redact.c
 * sorts, locates, merges and replaces what they find.
 *
 *     struct secret_span *v;
 *     size_t nv;
 *
 *     if (secret_rules_scan(text, len, &v, &nv) < 0)
 *         return -1;                   // out of memory
 *     // sort v by start, set line and column, then:
 *     secret_rules_relabel(v, nv);
 *     ... secret_rules_kind(v[0].kind)->name ...
 *     free(v);
 */
#ifndef WK_SECRET_RULES_H
#define WK_SECRET_RULES_H

#include <stddef.h>

/* One kind of secret. Merge priority: private_key > the token kinds and
 * password_hash > jwt > connection_password > generic_secret. */
struct secret_kind {
    const char *name;        /* rule_id suffix and placeholder:
                                "github_token" */
    const char *what;        /* in the message: "Hard-coded <what> (...)" */
    int priority;            /* wins a merge of overlapping spans */
};

/* A stretch of the text taken to be one secret. */
struct secret_span {
    size_t start;            /* offset of the first secret byte */
    size_t end;              /* offset past the last, > start */
    int kind;                /* for secret_rules_kind */
    unsigned flags;          /* hints for secret_rules_relabel; the caller
                                leaves them alone */
    int line;                /* 1-based line of start; 0 until the caller
                                sets it */
    int column;              /* 1-based, in UTF-8 characters, of start; 0
                                until the caller sets it */
};

/* Finds the candidate secrets of t[0..n) (borrowed for the call) in time
 * linear in n. Returns 0 with *spans (owns: free(); may be NULL when
 * *count is 0) and *count set: spans in no particular order, possibly
 * overlapping, line and column 0. Returns -1 when out of memory, with
 * *spans NULL and *count 0. */
int secret_rules_scan(const char *t, size_t n, struct secret_span **spans, size_t *count);

/* Gives a generic value that sits within a few lines of an AWS or Razorpay
 * key id the kind of that key's secret (key_secret = "..." under
 * key_id = "rzp_live_..."). v[0..nv) must be sorted by start with line set; only kind
 * changes. */
void secret_rules_relabel(struct secret_span *v, size_t nv);

/* Returns the description of kind, which must come from a span (borrows:
 * static, valid for the life of the process). */
const struct secret_kind *secret_rules_kind(int kind);

#endif
