/* export_sarif.h - a job's public view as a SARIF 2.1.0 log. Pure: no I/O.
 *
 * One run; tool.driver names Code Insight and one rule per distinct rule_id;
 * one result per finding with its level, message, location (the job's
 * file_path as a relative, percent-encoded URI under %SRCROOT%; the region
 * from line, column and end_line), partialFingerprints and, when the finding
 * carries a fix, a SARIF fix with one replacement per change block of the
 * diff. A failed job is a log whose invocation is not successful and names
 * the error; it has no results. docs/formats.md gives the full mapping,
 * including the fingerprint scheme.
 *
 *     cJSON *log = export_sarif(view, NULL);
 *     char *text = cJSON_PrintUnformatted(log); cJSON_Delete(log);
 */
#ifndef GW_EXPORT_SARIF_H
#define GW_EXPORT_SARIF_H

#include "common/json.h"

#define SARIF_SCHEMA_URI \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

/* The SARIF log of view (borrowed: a GET /job/:id view of a review or debug
 * job). info_uri (borrowed; NULL or "" for none; an absolute URL, checked by
 * the caller) becomes tool.driver.informationUri. Returns the
 * log (owns), or NULL when out of memory. Members of view that are missing
 * or of the wrong type are left out rather than failing. */
cJSON *export_sarif(const cJSON *view, const char *info_uri);

/* The fingerprint of a finding, as in partialFingerprints
 * primaryLocationLineHash without the ":occurrence" suffix: the first 16 hex
 * digits of SHA-256(path NUL rule_id NUL normalised message), where the
 * message is lower-cased, digit runs become '0' and whitespace runs one
 * space, trimmed. Line numbers take no part, so it survives the code
 * moving. out gets 16 hex chars and a NUL. NULL arguments count as "". */
void sarif_fingerprint(const char *path, const char *rule_id, const char *message,
                       char out[17]);

#endif
