/* export.c - GET /job/:id in the format the caller asked for (export.h). */
#include "gateway/export.h"

#include "common/err.h"
#include "common/job.h"
#include "gateway/export_rdjson.h"
#include "gateway/export_sarif.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <string.h>

int export_format_parse(const char *s)
{
    if (s == NULL || strcmp(s, "json") == 0)
        return EXPORT_JSON;
    if (strcmp(s, "sarif") == 0)
        return EXPORT_SARIF;
    if (strcmp(s, "rdjson") == 0)
        return EXPORT_RDJSON;
    return -1;
}

/* info_uri when it is an absolute http(s) URL without spaces, quotes or
 * controls (the SARIF schema wants a URI), else NULL. */
static const char *usable_uri(const char *s)
{
    if (s == NULL || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) ||
        strlen(s) < 10)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
            *p == '{' || *p == '}' || *p == '|' || *p == '^' || *p == '`')
            return NULL;
    return s;
}

void export_respond(struct request *req, cJSON *view, enum export_format f, const char *info_uri)
{
    const char *status = json_str(view, "status"), *type = json_str(view, "type");
    struct err e;
    cJSON *doc;
    char *text;

    err_clear(&e);
    if (type == NULL || (strcmp(type, "review") != 0 && strcmp(type, "debug") != 0)) {
        err_set_field(&e, ERR_INVALID_FIELD_VALUE, "format",
                      "sarif and rdjson are for review and debug jobs; this is a%s %s job",
                      type && type[0] == 'a' ? "n" : "", type ? type : "unknown");
        respond_error(req, &e);
        cJSON_Delete(view);
        return;
    }
    if (!job_view_finished(view)) {
        cJSON *extra = cJSON_CreateObject();
        err_set(&e, ERR_JOB_NOT_DONE, "the job is %s: poll GET /job/:id until its status "
                "is done or failed, then export it", status ? status : "not finished");
        if (extra != NULL && status != NULL)
            cJSON_AddStringToObject(extra, "job_status", status);
        respond_header(req, "Retry-After", "1");
        respond_error_with(req, &e, extra);
        cJSON_Delete(view);
        return;
    }
    info_uri = usable_uri(info_uri);
    doc = f == EXPORT_SARIF ? export_sarif(view, info_uri) : export_rdjson(view, info_uri);
    cJSON_Delete(view);
    text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    respond_tagged(req, f == EXPORT_SARIF ? "application/sarif+json" : "application/json", text,
                   NULL);
}
