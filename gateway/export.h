/* export.h - GET /job/:id?format=json|sarif|rdjson: a finished job's view
 * in another format (docs/formats.md). The mappings themselves are pure
 * (export_sarif.c, export_rdjson.c); this module picks one and answers.
 */
#ifndef GW_EXPORT_H
#define GW_EXPORT_H

#include "common/json.h"

struct request;

/* Who the exported logs name as their producer. */
#define EXPORT_TOOL_NAME    "Code Insight"
#define EXPORT_TOOL_VERSION "0.1.0"     /* the API's version (docs/openapi.yaml) */

enum export_format { EXPORT_JSON, EXPORT_SARIF, EXPORT_RDJSON };

/* Parses the format query argument: NULL or "json" (the default), "sarif",
 * "rdjson". Returns the format, or -1 when unknown. */
int export_format_parse(const char *s);

/* Answers GET /job/:id?format=sarif|rdjson with view (takes) in format f
 * (EXPORT_SARIF or EXPORT_RDJSON; the JSON view is jobs.c's to answer,
 * with the finished-job view cache): only for a review or debug job that
 * is done or failed (409 job_not_done, with job_status and Retry-After,
 * while queued or running; 400 invalid_field_value, field format, for an
 * architecture or stress job), with its ETag (respond_tagged). info_uri
 * (borrowed; "" or NULL: none) is the deployment's home page the logs
 * point to. */
void export_respond(struct request *req, cJSON *view, enum export_format f,
                    const char *info_uri);

#endif
