/* stress_suggest.h - the model's stress suggestions held against the run.
 *
 * The stress role asks for each suggestion's endpoint "exactly as in the
 * table" and never one that is not in it. A suggestion naming an endpoint
 * the run did not measure is advice about something nobody measured: it is
 * dropped and counted, as a review's finding on lines outside its file is
 * (answer_validate, worker/answer.h), without a repair round; the others
 * stand.
 *
 *     int dropped = stress_suggest_keep_measured(suggestions, report);
 */
#ifndef WK_STRESS_SUGGEST_H
#define WK_STRESS_SUGGEST_H

#include "common/json.h"

/* Removes from suggestions (an array as stress_answer_parse normalised it:
 * each {"endpoint": "METHOD /path", ...}) every entry whose endpoint names
 * none of report's "endpoints" (stress_report_json: {"method", "path"},
 * at most STRESS_REQUESTS_MAX of them are looked at). It names one when
 * the method is the same and the path, byte for byte, is
 *   - the endpoint's path as measured, or as the model's table showed it
 *     (redacted: redact_text, and cut to STRESS_TABLE_PATH_MAX bytes), or
 *   - that path without its query string, the suggestion having none
 *     ("GET /items" names "GET /items?page=2").
 * Both borrowed; suggestions is changed in place. Returns how many were
 * removed, or -1 when out of memory (suggestions then unchanged). */
int stress_suggest_keep_measured(cJSON *suggestions, const cJSON *report);

#endif
