/* export_rdjson.c - a job's view as reviewdog's rdjson (export_rdjson.h). */
#include "gateway/export_rdjson.h"

#include "gateway/export.h"
#include "gateway/finding_view.h"

#include <string.h>

static const char *rd_severity(const char *severity)
{
    if (severity != NULL && (strcmp(severity, "critical") == 0 || strcmp(severity, "major") == 0))
        return "ERROR";
    if (severity != NULL && strcmp(severity, "minor") == 0)
        return "WARNING";
    return "INFO";
}

/* {"line": line[, "column": column]} */
static cJSON *position(long line, long column)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddNumberToObject(p, "line", (double)line);
    if (column > 0)
        cJSON_AddNumberToObject(p, "column", (double)column);
    return p;
}

static cJSON *diagnostic(const cJSON *f, const char *path)
{
    const char *msg = json_str(f, "message"), *source = json_str(f, "source");
    long line = finding_num(f, "line"), col = finding_num(f, "column");
    long end = finding_num(f, "end_line");
    char help[160];
    cJSON *d = cJSON_CreateObject(), *loc, *range, *code;

    if (d == NULL)
        return NULL;
    cJSON_AddStringToObject(d, "message", msg ? msg : "");
    loc = cJSON_AddObjectToObject(d, "location");
    cJSON_AddStringToObject(loc, "path", path);
    if (line > 0) {
        range = cJSON_AddObjectToObject(loc, "range");
        cJSON_AddItemToObject(range, "start", position(line, col));
        /* Without columns reviewdog reads end line-wise, end line included;
         * with a start column an end without one would cut the range. */
        if (end > line && col == 0)
            cJSON_AddItemToObject(range, "end", position(end, 0));
    }
    cJSON_AddStringToObject(d, "severity", rd_severity(json_str(f, "severity")));
    if (source != NULL)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "source"), "name", source);
    code = cJSON_AddObjectToObject(d, "code");
    cJSON_AddStringToObject(code, "value", finding_rule(f));
    if (finding_help_uri(f, help, sizeof help))
        cJSON_AddStringToObject(code, "url", help);
    return d;
}

cJSON *export_rdjson(const cJSON *view, const char *info_uri)
{
    const char *path = json_str(view, "file_path"), *status = json_str(view, "status");
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(view, "findings"), *f;
    cJSON *doc = cJSON_CreateObject(), *src, *diags;

    if (doc == NULL)
        return NULL;
    src = cJSON_AddObjectToObject(doc, "source");
    cJSON_AddStringToObject(src, "name", EXPORT_TOOL_NAME);
    if (info_uri != NULL && info_uri[0] != '\0')
        cJSON_AddStringToObject(src, "url", info_uri);
    diags = cJSON_AddArrayToObject(doc, "diagnostics");
    if (status == NULL || strcmp(status, "done") != 0 || path == NULL)
        return doc;
    cJSON_ArrayForEach(f, findings) {
        cJSON *d = cJSON_IsObject(f) ? diagnostic(f, path) : NULL;
        if (d != NULL)
            cJSON_AddItemToArray(diags, d);
    }
    return doc;
}
