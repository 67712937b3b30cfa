/* validate.c - request validation for POST /review. */
#include "gateway/validate.h"

#include "common/err.h"
#include "common/relpath.h"
#include "common/utf8.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

/* Type-checks an optional string member; returns 0 or an error. */
static int opt_string(const cJSON *doc, const char *name, size_t max, const char **out,
                      struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
    size_t n;

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return ERR_OK;
    if (!cJSON_IsString(v))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, name, "%s must be a string", name);
    n = strlen(v->valuestring);
    if (max > 0 && n > max)
        return err_set_field(e, ERR_FIELD_TOO_LONG, name, "%s is %zu bytes; the limit is %zu",
                             name, n, max);
    if (!utf8_valid(v->valuestring, n, NULL))
        return err_set_field(e, strcmp(name, "file_path") == 0 ? ERR_INVALID_FILE_PATH
                                                             : ERR_INVALID_ENCODING,
                             name, "%s is not valid UTF-8", name);
    *out = v->valuestring;
    return ERR_OK;
}

static int int_member(const cJSON *obj, const char *name, const char *field, int required,
                      long *out, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;

    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return err_set_field(e, ERR_MISSING_FIELD, field, "%s is required", field);
        return 1;   /* absent */
    }
    if (!cJSON_IsNumber(v))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an integer", field);
    d = v->valuedouble;
    if (d != floor(d))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an integer", field);
    if (d < 1 || d > REVIEW_CURSOR_LINE_MAX)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field, "%s must be between 1 and %d",
                             field, REVIEW_CURSOR_LINE_MAX);
    *out = (long)d;
    return ERR_OK;
}

static int parse_cursor(const cJSON *doc, struct review_request *r, struct err *e)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "cursor_context");
    int rc;

    if (c == NULL || cJSON_IsNull(c))
        return ERR_OK;
    if (!cJSON_IsObject(c))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, "cursor_context",
                             "cursor_context must be an object {line, end_line?}");
    rc = int_member(c, "line", "cursor_context.line", 1, &r->cursor_line, e);
    if (rc != ERR_OK)
        return rc;
    rc = int_member(c, "end_line", "cursor_context.end_line", 0, &r->cursor_end_line, e);
    if (rc == 1)
        r->cursor_end_line = r->cursor_line;
    else if (rc != ERR_OK)
        return rc;
    if (r->cursor_end_line < r->cursor_line)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "cursor_context.end_line",
                             "cursor_context.end_line must not be before line");
    r->has_cursor = 1;
    return ERR_OK;
}

static int language_ok(char *lang)
{
    for (char *p = lang; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!isalnum(c) && c != '+' && c != '#' && c != '-' && c != '_' && c != '.')
            return 0;
        *p = (char)tolower(c);
    }
    return lang[0] != '\0';
}

static int review_check(struct review_request *r, const char *body, size_t len, struct err *e)
{
    const cJSON *doc = r->doc;
    const char *type;
    char nul_key[32];
    int rc, t;

    if (!cJSON_IsObject(doc))
        return err_set(e, ERR_INVALID_JSON, "the body must be a JSON object");
    if (json_find_nul_escape(body, len, nul_key, sizeof nul_key)) {
        if (strcmp(nul_key, "file_path") == 0)
            return err_set_field(e, ERR_INVALID_FILE_PATH, "file_path",
                                 "file_path must not contain NUL");
        return err_set_field(e, ERR_INVALID_ENCODING, nul_key,
                             "%s contains a NUL character; only text is accepted",
                             nul_key[0] ? nul_key : "a field");
    }
    /* Types first, so the error names the first malformed field. */
    if ((rc = opt_string(doc, "request_type", 0, &type, e)) != ERR_OK ||
        (rc = opt_string(doc, "file_path", REVIEW_FILE_PATH_MAX, &r->file_path, e)) != ERR_OK ||
        (rc = opt_string(doc, "file_content", 0, &r->file_content, e)) != ERR_OK ||
        (rc = opt_string(doc, "language", REVIEW_LANGUAGE_MAX, &r->language, e)) != ERR_OK ||
        (rc = opt_string(doc, "repo_id", REVIEW_REPO_ID_MAX, &r->repo_id, e)) != ERR_OK ||
        (rc = opt_string(doc, "diff", 0, &r->diff, e)) != ERR_OK ||
        (rc = opt_string(doc, "error_log", REVIEW_ERROR_LOG_MAX, &r->error_log, e)) != ERR_OK ||
        (rc = parse_cursor(doc, r, e)) != ERR_OK)
        return rc;

    if (type == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "request_type",
                             "request_type is required (review, debug or architecture)");
    if (r->file_path == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "file_path", "file_path is required");
    if (r->file_content == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, "file_content", "file_content is required");
    t = job_type_parse(type);
    if (t < 0)
        return err_set_field(e, ERR_INVALID_REQUEST_TYPE, "request_type",
                             "request_type must be review, debug or architecture");
    r->type = (enum job_type)t;
    if (!relpath_valid(r->file_path, strlen(r->file_path)))
        return err_set_field(e, ERR_INVALID_FILE_PATH, "file_path",
                             "file_path must be relative, without '..' segments or control "
                             "characters");
    if (r->language != NULL && !language_ok((char *)r->language))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "language",
                             "language may hold letters, digits and + # - _ . only");
    return ERR_OK;
}

int review_parse(const char *body, size_t len, struct review_request *out, struct err *e)
{
    const char *end = NULL;
    size_t at = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (body == NULL || len == 0)
        return err_set(e, ERR_INVALID_JSON, "the body is empty; send a JSON object");
    if (memchr(body, '\0', len) != NULL)
        return err_set(e, ERR_INVALID_JSON, "the body contains a raw NUL byte");
    if (json_raw_control(body, len, &at))
        return err_set(e, ERR_INVALID_JSON,
                       "unescaped control character inside a string at byte %zu", at);
    out->doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (out->doc == NULL) {
        at = (end != NULL && end >= body) ? (size_t)(end - body) : 0;
        return err_set(e, ERR_INVALID_JSON, "malformed JSON near byte %zu", at);
    }
    /* Only white space may follow the value. */
    while (end < body + len && isspace((unsigned char)*end))
        end++;
    if (end != body + len) {
        review_request_cleanup(out);
        return err_set(e, ERR_INVALID_JSON, "unexpected data after the JSON value at byte %zu",
                       (size_t)(end - body));
    }
    rc = review_check(out, body, len, e);
    if (rc != ERR_OK)
        review_request_cleanup(out);
    return rc;
}

void review_request_cleanup(struct review_request *r)
{
    cJSON_Delete(r->doc);
    memset(r, 0, sizeof *r);
}
