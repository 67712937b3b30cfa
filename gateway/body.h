/* body.h - the strict JSON reading every route with a body shares. Pure:
 * no I/O (unit-tested through test_validate.c and test_fix_request.c). */
#ifndef GW_BODY_H
#define GW_BODY_H

#include <stddef.h>

#include "common/json.h"

struct err;

/* Parses body[0..len) (need not be NUL-terminated) as one JSON object:
 * not empty, no raw NUL byte, no raw control character inside a string
 * (RFC 8259), nothing but white space after the value. Returns ERR_OK with
 * *out set (owns), or ERR_INVALID_JSON with *out NULL and e saying where. */
int body_parse_object(const char *body, size_t len, cJSON **out, struct err *e);

#endif
