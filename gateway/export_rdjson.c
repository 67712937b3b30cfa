/* export_rdjson.c - a job's view as reviewdog's rdjson (export_rdjson.h). */
#include "gateway/export_rdjson.h"

#include "gateway/export.h"
#include "gateway/finding_view.h"
#include "gateway/fix_blocks.h"

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

static cJSON *range_of(cJSON *start, cJSON *end)
{
    cJSON *r = cJSON_CreateObject();

    cJSON_AddItemToObject(r, "start", start);
    cJSON_AddItemToObject(r, "end", end);
    return r;
}

/* The fix's change blocks as suggestions, the way reviewdog's own diff
 * parser writes them (export_rdjson.h). NULL when the diff cannot be read. */
static cJSON *suggestions_of(const char *diff)
{
    struct fix_blocks fb;
    cJSON *list;

    if (fix_blocks_parse(diff, strlen(diff), &fb) < 0)
        return NULL;
    list = cJSON_CreateArray();
    for (size_t i = 0; i < fb.n; i++) {
        struct fix_block *b = &fb.v[i];
        cJSON *s = cJSON_CreateObject();
        if (b->old_count == 0) {
            cJSON_AddItemToObject(s, "range", range_of(position(b->old_start, 1),
                                                       position(b->old_start, 1)));
        } else if (b->text_len == 1 && b->text[0] == '\n') {
            /* One empty line: line-wise it would be "", a deletion. The
             * replaced text by columns instead, its newline included. */
            cJSON_AddItemToObject(s, "range", range_of(position(b->old_start, 1),
                                  position(b->end_line, b->end_column)));
        } else {
            cJSON_AddItemToObject(s, "range", range_of(position(b->old_start, 0),
                                  position(b->old_start + b->old_count - 1, 0)));
            /* Line-wise: the replaced lines' last newline stays. */
            if (b->text_len > 0 && b->text[b->text_len - 1] == '\n')
                b->text[--b->text_len] = '\0';
        }
        cJSON_AddStringToObject(s, "text", b->text);
        cJSON_AddItemToArray(list, s);
    }
    fix_blocks_cleanup(&fb);
    return list;
}

static cJSON *diagnostic(const cJSON *f, const char *path)
{
    const char *msg = json_str(f, "message"), *source = json_str(f, "source");
    long line = finding_num(f, "line"), col = finding_num(f, "column");
    long end = finding_num(f, "end_line");
    char help[160];
    cJSON *d = cJSON_CreateObject(), *loc, *range, *code, *sugg;

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
    if (finding_fix(f) != NULL && (sugg = suggestions_of(finding_fix(f))) != NULL)
        cJSON_AddItemToObject(d, "suggestions", sugg);
    return d;
}

cJSON *export_rdjson(const cJSON *view, const char *info_uri)
{
    const char *path = json_str(view, "file_path"), *status = json_str(view, "status");
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(view, "findings"), *f;
    cJSON *doc = cJSON_CreateObject(), *src, *diags, *diag;

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
    /* A debug job's diagnosis, as one more diagnostic (finding_view.h). */
    if ((diag = finding_view_diagnosis(view, &path)) != NULL) {
        cJSON *d = diagnostic(diag, path);
        if (d != NULL)
            cJSON_AddItemToArray(diags, d);
        cJSON_Delete(diag);
    }
    return doc;
}
