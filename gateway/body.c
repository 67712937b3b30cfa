/* body.c - strict JSON request bodies. */
#include "gateway/body.h"

#include "common/err.h"

#include <ctype.h>
#include <string.h>

int body_parse_object(const char *body, size_t len, cJSON **out, struct err *e)
{
    const char *end = NULL;
    size_t at = 0;
    cJSON *doc;

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
    *out = doc;
    return ERR_OK;
}
