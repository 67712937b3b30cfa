/* leak_check.h - test support for the redaction tables (test_redact_leaks.c,
 * test_redact_cli.c, test_redact.c): what must not survive worker/redact.c,
 * and what must come back from it unchanged.
 *
 * A leak case is a realistic snippet (a file, a manifest, a command line)
 * and the secret it holds. It fails when the redacted text still holds the
 * secret or any LEAK_PIECE_LEN-byte piece of it, when it no longer has the
 * original's line count (findings would land on the wrong lines), or, for
 * a case that names one, when the code around the secret did not survive
 * (a rule that swallowed the line). Every value is fake: typed for these
 * tests, in the shape of the real credential.
 *
 *     static const struct leak_case cases[] = {{"where", "text", "secret", NULL}};
 *     LEAK_CHECK(cases);                      // every case, one report
 *     leak_assert_lines_clean(lines, n);      // lookalikes kept as they are
 */
#ifndef TEST_LEAK_CHECK_H
#define TEST_LEAK_CHECK_H

#include <stddef.h>

/* A piece of a secret this long left in the text is a leak. */
#define LEAK_PIECE_LEN 10

struct leak_case {
    const char *what;       /* where a developer writes it */
    const char *text;       /* the submitted text */
    const char *secret;     /* what must not reach the model */
    const char *kept;       /* text around it that must survive, or NULL */
};

/* Redacts each case (as a diff when diff is set) and fails naming every
 * case that leaks, loses the code around it or changes the line count. */
void leak_check_cases(const struct leak_case *c, size_t n, int diff);

#define LEAK_CHECK(cases) leak_check_cases((cases), sizeof(cases) / sizeof((cases)[0]), 0)
#define LEAK_CHECK_DIFF(cases) leak_check_cases((cases), sizeof(cases) / sizeof((cases)[0]), 1)

/* Fails (naming what) unless text[0..len) comes back unchanged, with no
 * finding. */
void leak_assert_clean(const char *text, size_t len, const char *what);

/* Each of lines[0..n) comes back unchanged, alone and joined. */
void leak_assert_lines_clean(const char *const *lines, size_t n);

#endif
