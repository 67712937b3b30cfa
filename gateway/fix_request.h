/* fix_request.h - turns a POST /apply-fix body into a checked request.
 * Pure: no I/O, so every rule is unit-tested (tests/unit/test_fix_request.c).
 */
#ifndef GW_FIX_REQUEST_H
#define GW_FIX_REQUEST_H

#include <stddef.h>

#include "common/crypto.h"
#include "common/json.h"

struct err;

/* Field limits, bytes (finding ids: FINDING_ID_MAX, common/finding_id.h). */
#define FIX_JOB_ID_LEN   36         /* a UUID */
#define FIX_SHA256_LEN   64         /* lower-case hex */

struct fix_request {
    char job_id[CRYPTO_UUID_LEN];   /* lower-cased */
    char finding_id[16];            /* "f3", or "fix" (a debug job's own fix) */
    char base_sha256[FIX_SHA256_LEN + 1];
};

/* Parses and validates body[0..len) (need not be NUL-terminated):
 *   {"job_id": UUID, "finding_id": "f<n>" | "fix",
 *    "base_sha256": 64 lower-case hex digits, "approve": true}
 * In this order: strict JSON object (invalid_json); a "\u0000" anywhere
 * (invalid_encoding); a member not listed (unknown_field, naming it); each
 * of the three strings present (missing_field), a string
 * (invalid_field_type), not longer than its limit (field_too_long) and of
 * its shape (invalid_field_value); then approve exactly the JSON literal
 * true (approval_required: absent, null, false, "true" and 1 are all
 * refused). Returns ERR_OK with out filled, or the code with e naming the
 * field (out then zeroed). */
int fix_request_parse(const char *body, size_t len, struct fix_request *out, struct err *e);

#endif
