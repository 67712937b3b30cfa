/* body.c - strict JSON request bodies. */
#include "gateway/body.h"

#include "common/err.h"
#include "common/utf8.h"

#include <ctype.h>
#include <string.h>

int body_parse_object(const char *body, size_t len, cJSON **out, struct err *e)
{
    const char *end = NULL;
    char dup[BODY_NAME_ECHO_MAX + 1];
    size_t at = 0;
    cJSON *doc;
    int rc;

    *out = NULL;
    if (body == NULL || len == 0)
        return err_set(e, ERR_INVALID_JSON, "the body is empty; send a JSON object");
    if (memchr(body, '\0', len) != NULL)
        return err_set(e, ERR_INVALID_JSON, "the body contains a raw NUL byte");
    if (json_raw_control(body, len, &at))
        return err_set(e, ERR_INVALID_JSON,
                       "unescaped control character inside a string at byte %zu", at);
    doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (doc == NULL) {
        at = (end != NULL && end >= body) ? (size_t)(end - body) : 0;
        return err_set(e, ERR_INVALID_JSON, "malformed JSON near byte %zu", at);
    }
    /* Only white space may follow the value. */
    while (end < body + len && isspace((unsigned char)*end))
        end++;
    if (end != body + len) {
        cJSON_Delete(doc);
        return err_set(e, ERR_INVALID_JSON, "unexpected data after the JSON value at byte %zu",
                       (size_t)(end - body));
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return err_set(e, ERR_INVALID_JSON, "the body must be a JSON object");
    }
    if ((rc = json_duplicate_name(doc, dup, sizeof dup)) != 0) {
        cJSON_Delete(doc);
        if (rc < 0)
            return err_set(e, ERR_INTERNAL, "out of memory");
        /* The name is echoed only when it is short, whole UTF-8. */
        if (strlen(dup) < BODY_NAME_ECHO_MAX && utf8_valid(dup, strlen(dup), NULL))
            return err_set_field(e, ERR_INVALID_JSON, dup,
                                 "member \"%s\" appears twice in one object", dup);
        return err_set(e, ERR_INVALID_JSON, "a member name appears twice in one object");
    }
    *out = doc;
    return ERR_OK;
}

int body_parse_fields(const char *body, size_t len, cJSON **out, struct err *e)
{
    char key[64];
    int rc = body_parse_object(body, len, out, e);

    if (rc != ERR_OK || !json_find_nul_escape(body, len, key, sizeof key))
        return rc;
    cJSON_Delete(*out);
    *out = NULL;
    return err_set_field(e, ERR_INVALID_ENCODING, key, "%s contains a NUL character",
                         key[0] ? key : "a member name");
}

int body_string(const cJSON *doc, const char *name, size_t max, const char **out,
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
        return err_set_field(e, ERR_INVALID_ENCODING, name, "%s is not valid UTF-8", name);
    *out = v->valuestring;
    return ERR_OK;
}

int body_string_required(const cJSON *doc, const char *name, size_t max, const char **out,
                         struct err *e)
{
    int rc = body_string(doc, name, max, out, e);

    if (rc == ERR_OK && *out == NULL)
        return err_set_field(e, ERR_MISSING_FIELD, name, "%s is required (a string)", name);
    return rc;
}
