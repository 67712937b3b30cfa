/* answer.h - the model's answer: parsed, validated against the submitted
 * file, and merged with linter and secret findings.
 *
 * The model must answer JSON only:
 *   {"findings": [{"line", "end_line", "severity", "category", "message",
 *                  "fix"?, "confidence"}], "summary": "..."}
 * where fix is a unified diff against the submitted file.
 */
#ifndef WK_ANSWER_H
#define WK_ANSWER_H

#include <stddef.h>

#include "common/json.h"

/* Findings kept from one answer, at most. */
#define ANSWER_FINDINGS_MAX 100

/* Parses text (a JSON object, optionally inside one ```json fence). On 0,
 * *findings (owns, array) and *summary (owns) are set; findings are
 * normalised to {line, end_line?, severity, category, message, fix?,
 * confidence, source:"model"}; entries of the wrong shape are dropped and
 * counted in *dropped. On -1, why (cap bytes) says what was wrong (for the
 * one repair attempt) and nothing is allocated. */
int answer_parse(const char *text, size_t len, cJSON **findings, char **summary, int *dropped,
                 char *why, size_t cap);

/* Drops findings whose lines fall outside 1..(lines of file) and removes a
 * fix that does not apply cleanly to file (patch.h). Returns how many
 * findings were dropped. */
int answer_validate(cJSON *findings, const char *file, size_t len);

/* Merges secret, linter and model findings (each borrowed, may be NULL) into
 * one new array (owns), ordered by line: the same issue on the same line
 * (same line and category, or same rule_id) is kept once, preferring
 * secrets over linters over the model; every finding keeps its source. */
cJSON *answer_merge(const cJSON *secrets, const cJSON *lint, const cJSON *model);

#endif
