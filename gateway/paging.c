/* paging.c - limit and cursor of the caller's lists. */
#include "gateway/paging.h"

#include "common/crypto.h"
#include "common/err.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int paging_parse_or_respond(struct request *req, long def, long max, long *limit,
                            const char **cursor)
{
    const char *limit_s = request_query(req, "limit");
    struct err e;

    *cursor = request_query(req, "cursor");
    *limit = def;
    if (limit_s != NULL) {
        char *end;
        errno = 0;
        *limit = strtol(limit_s, &end, 10);
        if (errno != 0 || end == limit_s || *end != '\0' || *limit < 1 || *limit > max) {
            err_set_field(&e, ERR_INVALID_FIELD_VALUE, "limit", "limit is 1 to %ld", max);
            respond_error(req, &e);
            return -1;
        }
    }
    if (*cursor != NULL && !crypto_uuid_valid(*cursor)) {
        err_set_field(&e, ERR_INVALID_FIELD_VALUE, "cursor", "cursor is a next_cursor value");
        respond_error(req, &e);
        return -1;
    }
    if (*cursor != NULL) {
        /* Ids are stored lower-case and Redis compares bytes: an upper-case
         * cursor would sort before them all and end the list at once. */
        size_t i;
        for (i = 0; (*cursor)[i] != '\0' && i < sizeof req->cursor - 1; i++)
            req->cursor[i] = (char)tolower((unsigned char)(*cursor)[i]);
        req->cursor[i] = '\0';
        *cursor = req->cursor;
    }
    return 0;
}

cJSON *paging_body(const char *name, cJSON *items, long limit, const char *id,
                   const char *resume)
{
    cJSON *body = cJSON_CreateObject();

    if (body == NULL || items == NULL) {
        cJSON_Delete(body);
        cJSON_Delete(items);
        return NULL;
    }
    if (cJSON_GetArraySize(items) > limit) {
        while (cJSON_GetArraySize(items) > limit)
            cJSON_DeleteItemFromArray(items, (int)limit);
        cJSON_AddItemToObject(body, name, items);
        json_add_str_or_null(body, "next_cursor",
                             json_str(cJSON_GetArrayItem(items, (int)limit - 1), id));
    } else {
        cJSON_AddItemToObject(body, name, items);
        json_add_str_or_null(body, "next_cursor", resume);
    }
    return body;
}
