/* task_answer.h - the answers of the heavy tasks: Debug Doctor ("debug"),
 * the architecture generator ("architecture") and the stress-test advisor
 * ("stress"). One parser per task, each a model_parse_fn (model_ask.h):
 *
 *     cJSON *a; char why[300];
 *     if (debug_answer_parse(text, len, &a, why, sizeof why) != 0) { ...repair with why... }
 *
 * Common rules, all three:
 * - The text is one JSON object, strict, optionally inside one ```json
 *   fence (answer_json_object in answer.h: RFC 8259, valid UTF-8, no
 *   "\u0000", at most ANSWER_TEXT_MAX bytes).
 * - A required member that is missing, null, of the wrong type or empty
 *   (after trimming white space; an array whose strings are all empty;
 *   stress' suggestions may be empty) fails with a reason naming it, e.g.
 *   "\"verification_steps\" is empty" or "suggestions[2].kind ...". Array
 *   indexes in reasons are 0-based.
 * - Strings are trimmed, control characters other than "\n" and "\t" become
 *   spaces, and a string over its cap is cut at a UTF-8 character boundary
 *   and ends in "..." (the result, "..." included, fits the cap). Diffs and
 *   diagrams are the exceptions, see below.
 * - In an array of strings, empty strings are dropped; a non-string fails.
 *   An array longer than its maximum keeps its first entries; the rest are
 *   ignored unchecked.
 * - Unknown members are dropped, at every level. The normalised object has
 *   exactly the members shown, in that order.
 * - On -1 why (cap bytes; may be NULL) says what is wrong and *out is NULL;
 *   nothing is allocated.
 */
#ifndef WK_TASK_ANSWER_H
#define WK_TASK_ANSWER_H

#include <stddef.h>

#include "common/json.h"

/* ---- debug ----
 * {"root_cause": string, "explanation": string, "fix": string | null,
 *  "verification_steps": [string], "confidence": number,
 *  "findings": [finding]}
 * - root_cause: cut to DEBUG_ROOT_CAUSE_MAX.
 * - explanation: its first DEBUG_EXPLANATION_LINES non-blank lines (each
 *   right-trimmed, joined by "\n", "..." appended when lines were left
 *   out), then cut to DEBUG_EXPLANATION_MAX.
 * - fix: absent, null or white space only -> null. Otherwise a string of at
 *   most PATCH_MAX bytes (patch.h; longer fails) holding at least one line
 *   that starts with "@@ -" (else fails), kept byte for byte: whether it
 *   applies to the file is the caller's check (patch_apply).
 * - verification_steps: 1..DEBUG_STEPS_MAX strings, each cut to
 *   DEBUG_STEP_MAX.
 * - confidence: a number in 0..1 (required; outside fails).
 * - findings: optional in the answer (absent or null reads as []), an array
 *   when given (else fails); entries normalised and dropped by
 *   answer_parse's rules (answer_findings in answer.h), at most
 *   ANSWER_FINDINGS_MAX. Always present in the output, with
 *   "findings_dropped": how many entries were not kept. Their lines are not
 *   checked against the file: that is answer_validate. */
#define DEBUG_ROOT_CAUSE_MAX 512
#define DEBUG_EXPLANATION_MAX 600
#define DEBUG_EXPLANATION_LINES 2
#define DEBUG_STEPS_MAX 8
#define DEBUG_STEP_MAX 300

int debug_answer_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap);

/* ---- architecture ----
 * {"summary": string, "diagram": string,
 *  "modules": [{"name": string, "responsibility": string}],
 *  "data_flow": [string], "security": [string], "scaling": [string],
 *  "cost": [string]}
 * - summary: cut to ARCH_SUMMARY_MAX.
 * - diagram: ASCII art, kept as drawn except: "\r" and white space at line
 *   ends removed, blank lines before the first and after the last line
 *   removed, control characters other than "\n" and "\t" made spaces
 *   (leading indentation stays). Then it must hold at least
 *   ARCH_DIAGRAM_LINES_MIN lines and at most ARCH_DIAGRAM_MAX bytes (a
 *   longer one fails: a cut drawing is worse than a redraw).
 * - modules: 1..ARCH_MODULES_MAX objects, each with both members non-empty
 *   (else fails): name cut to ARCH_NAME_MAX, responsibility to
 *   ARCH_RESPONSIBILITY_MAX.
 * - data_flow, security, scaling, cost: 1..ARCH_ITEMS_MAX strings each, each
 *   cut to ARCH_ITEM_MAX. */
#define ARCH_SUMMARY_MAX 2048
#define ARCH_DIAGRAM_MAX 8192
#define ARCH_DIAGRAM_LINES_MIN 2
#define ARCH_MODULES_MAX 30
#define ARCH_NAME_MAX 80
#define ARCH_RESPONSIBILITY_MAX 400
#define ARCH_ITEMS_MAX 20
#define ARCH_ITEM_MAX 400

int arch_answer_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap);

/* ---- stress ----
 * {"summary": string,
 *  "suggestions": [{"endpoint": string, "kind": string, "advice": string,
 *                   "expected_impact"?: string}]}
 * - summary: cut to STRESS_SUMMARY_MAX.
 * - suggestions: 0..STRESS_SUGGESTIONS_MAX objects: [] is a whole answer
 *   (every endpoint fast and error-free); the member itself is required.
 * - endpoint: "METHOD /path": the method one of GET, HEAD, POST, PUT, PATCH,
 *   DELETE, OPTIONS in any case (written upper case), white space, then a
 *   path starting with "/" without white space or control characters;
 *   normalised to "METHOD /path" with one space, at most
 *   STRESS_ENDPOINT_MAX bytes. Anything else fails. Whether the run
 *   measured it is the caller's check (worker/stress_suggest.h).
 * - kind: caching | index | pagination | batching | connection_pool |
 *   payload | rate_limit | async | other, case-insensitive, "-" and " "
 *   read as "_", or a synonym ("cache", "memoization" -> caching;
 *   "indexing", "db_index", "indexes" -> index; "paging", "paginate" ->
 *   pagination; "batch", "bulk", "n_plus_one" -> batching; "pool",
 *   "pooling", "connection_pooling" -> connection_pool; "compression",
 *   "gzip", "payload_size" -> payload; "rate_limiting", "throttling" ->
 *   rate_limit; "asynchronous", "queue", "background_job" -> async; the full
 *   list is in task_answer.c). Unknown kinds fail.
 * - advice: cut to STRESS_ADVICE_MAX.
 * - expected_impact: optional; absent, null or empty -> left out of the
 *   output; else a string (a non-string fails) cut to STRESS_IMPACT_MAX. */
#define STRESS_SUMMARY_MAX 2048
#define STRESS_SUGGESTIONS_MAX 20
/* Bytes of an endpoint's path the stress prompt's table shows at most (a
 * longer one is cut at a UTF-8 boundary; stress_task.c). */
#define STRESS_TABLE_PATH_MAX 300
/* "METHOD /path": the longest method, a space and a path as the table shows
 * it, so a model naming an endpoint as shown is never refused. */
#define STRESS_ENDPOINT_MAX (7 + 1 + STRESS_TABLE_PATH_MAX)
#define STRESS_ADVICE_MAX 1024
#define STRESS_IMPACT_MAX 300

int stress_answer_parse(const char *text, size_t len, cJSON **out, char *why, size_t cap);

#endif
