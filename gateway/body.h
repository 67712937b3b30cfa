/* body.h - the strict JSON reading every route with a body shares. Pure:
 * no I/O (unit-tested through test_validate.c and test_fix_request.c). */
#ifndef GW_BODY_H
#define GW_BODY_H

#include <stddef.h>

#include "common/json.h"

struct err;

/* Longest member name an error detail repeats. */
#define BODY_NAME_ECHO_MAX 64

/* Parses body[0..len) (need not be NUL-terminated) as one JSON object:
 * not empty, no raw NUL byte, no raw control character inside a string
 * (RFC 8259), nothing but white space after the value, no object anywhere
 * with two members of one name. Returns ERR_OK with *out set (owns), or
 * ERR_INVALID_JSON with *out NULL and e saying where (ERR_INTERNAL when
 * memory ran out). */
int body_parse_object(const char *body, size_t len, cJSON **out, struct err *e);

/* body_parse_object, then refuses a "\u0000" inside any string (cJSON would
 * cut the string short there): ERR_INVALID_ENCODING, e naming the top-level
 * member that holds it. */
int body_parse_fields(const char *body, size_t len, cJSON **out, struct err *e);

/* The string member name of doc: ERR_OK with *out (borrowed; NULL when the
 * member is absent or null), or, e naming the field, ERR_INVALID_FIELD_TYPE
 * (not a string), ERR_FIELD_TOO_LONG (over max bytes; max 0: no limit) or
 * ERR_INVALID_ENCODING (not valid UTF-8). What reaches PostgreSQL, a log or
 * an answer is then whole UTF-8 of a known size. */
int body_string(const cJSON *doc, const char *name, size_t max, const char **out,
                struct err *e);

/* body_string for a member that must be there: absent or null is
 * ERR_MISSING_FIELD ("<name> is required"), e naming the field. On ERR_OK
 * *out is never NULL. */
int body_string_required(const cJSON *doc, const char *name, size_t max, const char **out,
                         struct err *e);

#endif
