/* answer.h - the model's answer: parsed, validated against the submitted
 * file, and merged with linter and secret findings. The strict JSON
 * extraction, text cleaning and findings rules are shared with the other
 * tasks' parsers (task_answer.h).
 *
 * The model must answer JSON only (the role blocks in prompts/system_brain.json
 * ask for exactly this):
 *   {"findings": [{"line", "end_line", "severity", "category", "message",
 *                  "fix"?, "confidence"}], "summary": "..."}
 * where fix is the corrected text of lines line..end_line (the worker makes
 * the diff: worker/replace_fix.h) or, as the model may also write it, a
 * unified diff against the submitted file.
 */
#ifndef WK_ANSWER_H
#define WK_ANSWER_H

#include <stddef.h>

#include "common/json.h"

/* Findings kept from one answer, at most; later valid ones count as dropped. */
#define ANSWER_FINDINGS_MAX 100
/* Bytes of an answer accepted by answer_parse. */
#define ANSWER_TEXT_MAX (1024 * 1024)
/* Bytes of a finding's message / of the summary; longer ones are cut at a
 * character boundary and end in "...". */
#define ANSWER_MESSAGE_MAX 1024
#define ANSWER_SUMMARY_MAX 2048
/* Confidence of a finding that gives none. */
#define ANSWER_CONFIDENCE_DEFAULT 0.5

/* A confidence from 0 to 1 as stored: to the nearest thousandth, so that
 * PostgreSQL's real column takes it (it refuses a value such as 1e-50,
 * which underflows). */
double answer_confidence(double x);

/* Extracts the one JSON object of a model's answer text[0..len) (NULL reads
 * as empty), for every task's parser: the whole text trimmed of white
 * space, or the inside of one ``` / ```json fence with nothing around it;
 * at most ANSWER_TEXT_MAX bytes, strict JSON (RFC 8259: no raw control
 * characters in strings, valid UTF-8, no "\u0000", no NUL byte, nothing
 * after the value), and an object. Returns the object (owns), or NULL with
 * why (cap bytes; may be NULL) saying what is wrong in words the model can
 * act on (one that stops inside a string or with a bracket open is said to
 * be cut short, and asked for fewer, shorter findings). shape (borrowed) is
 * the skeleton quoted when the answer is empty or an array, e.g.
 * "{\"findings\": [...], \"summary\": \"...\"}".
 * Duplicate members are not detected: lookups find the first. */
cJSON *answer_json_object(const char *text, size_t len, const char *shape, char *why,
                          size_t cap);

/* A trimmed copy of s (borrowed, NUL-terminated) of at most max bytes
 * (max >= 4): a longer one is cut at a UTF-8 character boundary and ends
 * in "...". Control characters other than "\n" and "\t" become spaces (at
 * the ends they are trimmed: one of them alone copies as "") and
 * invalid UTF-8 (from \u escapes of lone surrogates) becomes '?'. Returns
 * it (owns) or NULL when out of memory. */
char *answer_text_copy(const char *s, size_t max);

/* Normalises a model's "findings" array (borrowed) by answer_parse's rules
 * below: returns a new array (owns) of the kept findings, at most
 * ANSWER_FINDINGS_MAX, with the count of dropped entries in *dropped (may
 * be NULL); NULL only when out of memory. A non-array reads as empty. */
cJSON *answer_findings(const cJSON *arr, int *dropped);

/* Parses text (a JSON object, optionally inside one ```json fence). On 0,
 * *findings (owns, array) and *summary (owns) are set; findings are
 * normalised to {line, end_line?, severity, category, rule_id, message,
 * fix?, confidence, source:"model"} (rule_id is "model:<category>", so
 * every finding has the API's required rule_id); entries of the wrong
 * shape are dropped and counted in *dropped. On -1, why (cap bytes) says what was wrong (for the
 * one repair attempt) and nothing is allocated.
 *
 * The text must be strict JSON (RFC 8259: no raw control characters in
 * strings, valid UTF-8, no "\u0000", nothing but white space around it);
 * the root an object with "findings" (array) and "summary" (non-empty
 * string, cut to ANSWER_SUMMARY_MAX). A finding is kept when: line is an
 * integer >= 1; end_line, when present and not null, an integer >= line;
 * severity and category name one of the enums (case-insensitive) or a
 * common synonym ("high"/"error"/"severe" -> major, "medium"/"moderate"/
 * "low"/"warning" -> minor, "blocker"/"fatal" -> critical, "note"/
 * "suggestion" -> info; "bug"/"logic" -> correctness, "vulnerability" ->
 * security, "perf" -> performance, "design"/"readability" ->
 * maintainability, "formatting"/"naming" -> style, "docs"/"comment" ->
 * documentation); message a non-empty string (cut to ANSWER_MESSAGE_MAX);
 * confidence, when present and not null, a number in 0..1 (absent:
 * ANSWER_CONFIDENCE_DEFAULT); fix, when present and not null, a string
 * (an empty one, or one over PATCH_MAX bytes, is left out). Other members
 * are ignored. */
int answer_parse(const char *text, size_t len, cJSON **findings, char **summary, int *dropped,
                 char *why, size_t cap);

/* The file an answer is about. */
struct answer_file {
    const char *path;           /* for the headers of a fix's diff; may be NULL */
    const char *text;           /* the submitted file: every fix must apply to it */
    size_t len;
    const char *seen;           /* what the model saw (the redacted text, with the
                                   same lines); NULL: text */
    size_t seen_len;
    const cJSON *shown;         /* borrowed: the lines the prompt showed, [[first,
                                   last], ...] 1-based, inclusive (context.h's
                                   reviewed_ranges); NULL: every line */
};

/* Lines a fix written as a diff may change beyond its finding's
 * line..end_line (a guard added on the line before, say). */
#define ANSWER_FIX_SLACK 3

/* Drops findings whose lines fall outside 1..(lines of the file), or, with
 * file->shown, whose line..end_line overlaps none of the lines shown (the
 * model was not shown them: a cursor or diff review's windows, a file cut
 * at the input budget), and turns each fix into a unified diff that
 * applies cleanly to file->text, or removes it; a fix that would change a
 * line not shown is removed (fixes metric outcome "unseen_lines"), its
 * finding kept. Call it on the model's findings only.
 *
 * A fix that reads as a diff (it starts with "diff --git " or "@@ ", or
 * has a line starting "@@ -", or a line starting "--- " followed by one
 * starting "+++ "; nothing is skipped before a line, so "  --- x" or a Lua
 * "--- doc" line is new text) is kept when it applies (patch.h), changes no
 * line further than ANSWER_FIX_SLACK from line..end_line and adds no line
 * holding REDACT_MARK (redact_diff_adds_mark). Any other is the new text
 * of lines line..end_line (line alone without end_line): the diff is made
 * from file->seen by replace_fix_diff, so it never holds a secret the
 * model did not see, and is kept when it also applies to file->text (it
 * does not when a redacted line is among its lines) and the new text holds
 * no REDACT_MARK. Returns how many findings were dropped. */
int answer_validate(cJSON *findings, const struct answer_file *file);

/* The severities a finding may have, most severe first. */
#define ANSWER_SEVERITIES 4

/* The name of severity i (0 "critical" .. 3 "info"), static. */
const char *answer_severity_name(int i);

/* Counts the findings of each severity into counts (indexed as
 * answer_severity_name); one with another or no severity counts nowhere. */
void answer_count_severities(const cJSON *findings, int counts[ANSWER_SEVERITIES]);

/* Merges secret, linter and model findings (each borrowed, may be NULL) into
 * one new array (owns), ordered by line: the same issue on the same line
 * (same line and category, or same rule_id) is kept once, preferring
 * secrets over linters over the model; every finding keeps its source.
 *
 * Precisely: two findings are the same issue when they have the same line
 * and either the same non-empty rule_id and message (two of the model's,
 * whose rule ids only name a category, excepted), or the same category and
 * come from different inputs, or are two linters' reports of one check
 * (linters_same_finding: flake8's F401 and pylint's W0611 on one name).
 * Two linter findings on one line with unrelated rule_ids, say E501 and
 * W291, are two issues. Order: by line, then
 * secrets, linters, model, then input order. Findings are deep copies; one
 * without a "source" string gets "secrets", "lint" or "model" after its
 * input. Items that are not objects are skipped. Returns NULL only when
 * out of memory. */
cJSON *answer_merge(const cJSON *secrets, const cJSON *lint, const cJSON *model);

/* Shared by the answer modules (answer.c, answer_validate.c,
 * answer_merge.c). 1 when v is a number holding an integer line number
 * (1 to 10^9); answer_member: obj's member name when present and not
 * null, else NULL. */
int answer_line_no(const cJSON *v);
const cJSON *answer_member(const cJSON *obj, const char *name);

#endif
