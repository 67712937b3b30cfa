/* linter_parse_finding.h - what the parsers of linter_parse_lines.c (a
 * finding per line: flake8, cppcheck) and linter_parse_json.c (JSON:
 * pylint, shellcheck, ESLint) share: the finding one of them reads, checks
 * on its parts, its message made safe and cut, and the finding object of
 * linters.h it becomes. For those files only; the rest of the worker uses
 * linter_parse.h. Pure.
 *
 *     struct finding f = {0};
 *     f.line = finding_line_clamp(row); f.rule_id = id; f.severity = ...;
 *     finding_text(&f, msg, text, more, id);
 *     finding_append(findings, &f, "lint:flake8");
 */
#ifndef CI_LINTER_PARSE_FINDING_H
#define CI_LINTER_PARSE_FINDING_H

#include <stddef.h>

#include "common/json.h"
#include "worker/linters.h"

/* One finding as read, before it becomes an object. */
struct finding {
    long line;             /* >= 1 */
    long end_line;         /* >= line, or 0 when absent */
    long column;           /* >= 1, or 0 when absent */
    const char *severity;  /* static */
    const char *category;  /* static */
    const char *rule_id;   /* borrowed, validated by finding_rule_id_valid() */
    const char *message;   /* borrowed, from finding_sanitize() */
};

/* 1 when s[0..len) holds only blanks (space, \t, \n, \r, \v, \f) or is
 * empty. */
int finding_blank(const char *s, size_t len);

/* 1 when s is 1..LINTERS_RULE_ID_MAX bytes of [A-Za-z0-9_.@/-]. */
int finding_rule_id_valid(const char *s);

/* Clamps a line number from a tool into [1, INT_MAX]. */
long finding_line_clamp(long line);

/* Writes src[0..len) into dst (cap + 1 bytes, cap >= 3) as at most cap
 * bytes of valid UTF-8: leading and trailing blanks dropped, control
 * characters (C0, DEL and C1) turned into spaces, malformed bytes into '?'. When it does not
 * fit, or `more` says src was already cut, it is cut at a character
 * boundary and ends in "...". A cut inside a word goes back to the blank
 * before it, dropping the word: linters quote the file, and a secret cut in
 * half no longer matches the redaction's patterns (redact_findings), so its
 * first half would reach the model. Returns the length written: 0, with
 * dst "", when nothing is left (src blank, or one word that was cut). */
size_t finding_sanitize(char *dst, size_t cap, const char *src, size_t len, int more);

/* Sets f's message, built in msg (LINTERS_MESSAGE_MAX + 1 bytes; f borrows
 * it): text (NUL-terminated, cut; `more` when it was already cut), else
 * fallback when text is NULL or blank. */
void finding_text(struct finding *f, char *msg, const char *text, int more,
                  const char *fallback);

/* Appends f as a finding object (linters.h) with "source" source to the
 * array findings. Returns 0, or -1 when out of memory (nothing appended). */
int finding_append(cJSON *findings, const struct finding *f, const char *source);

/* The checks every parse() makes first (linters.h). Returns 1 when the
 * parser should go on, 0 when the output is empty or blank (0 findings),
 * -1 when it must fail: findings is not an array, out is NULL with len > 0,
 * or len exceeds LINTERS_OUTPUT_MAX. */
int finding_precheck(const char *out, size_t len, const cJSON *findings);

#endif
