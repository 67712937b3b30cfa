/* fix_request.c - request validation for POST /apply-fix. */
#include "gateway/fix_request.h"

#include "common/err.h"
#include "common/finding_id.h"
#include "common/utf8.h"
#include "gateway/body.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Bytes of an unknown member's name echoed in the error, at most. */
#define UNKNOWN_NAME_MAX 48

static const char *const members[] = {"job_id", "finding_id", "base_sha256", "approve"};

/* A required string member of at most max bytes, copied into out (cap
 * bytes, cap > max). */
static int string_member(const cJSON *doc, const char *name, size_t max, char *out,
                         size_t cap, struct err *e)
{
    const char *s;
    int rc = body_string_required(doc, name, max, &s, e);

    if (rc == ERR_OK)
        snprintf(out, cap, "%s", s);
    return rc;
}

static int lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
            return 0;
    return 1;
}

static int fix_check(const cJSON *doc, struct fix_request *r, struct err *e)
{
    const cJSON *it, *approve;
    int rc;

    cJSON_ArrayForEach(it, doc) {
        size_t i = 0, n = strlen(it->string);
        char name[UNKNOWN_NAME_MAX + 1];

        while (i < sizeof members / sizeof members[0] && strcmp(it->string, members[i]) != 0)
            i++;
        if (i < sizeof members / sizeof members[0])
            continue;
        /* The name is echoed: whole UTF-8 characters only. */
        if (!utf8_valid(it->string, n, NULL))
            return err_set(e, ERR_INVALID_ENCODING, "a member name is not valid UTF-8");
        snprintf(name, sizeof name, "%.*s", (int)utf8_cut(it->string, n, UNKNOWN_NAME_MAX),
                 it->string);
        return err_set_field(e, ERR_UNKNOWN_FIELD, name, "unknown member %s: send job_id, "
                             "finding_id, base_sha256 and approve", name);
    }
    if ((rc = string_member(doc, "job_id", FIX_JOB_ID_LEN, r->job_id, sizeof r->job_id, e)) ||
        (rc = string_member(doc, "finding_id", FINDING_ID_MAX, r->finding_id,
                            sizeof r->finding_id, e)) ||
        (rc = string_member(doc, "base_sha256", FIX_SHA256_LEN, r->base_sha256,
                            sizeof r->base_sha256, e)))
        return rc;
    if (!crypto_uuid_valid(r->job_id))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "job_id", "job_id is a job's UUID");
    for (char *p = r->job_id; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!finding_id_valid(r->finding_id))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "finding_id", "finding_id is a "
                             "finding's id (\"f1\", \"f2\"...) or \"fix\" (a debug job's fix)");
    if (!lower_hex(r->base_sha256, FIX_SHA256_LEN))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "base_sha256", "base_sha256 is the "
                             "SHA-256 of your file as 64 lower-case hex digits");
    approve = cJSON_GetObjectItemCaseSensitive(doc, "approve");
    if (!cJSON_IsTrue(approve))
        return err_set_field(e, ERR_APPROVAL_REQUIRED, "approve", "nothing is applied without "
                             "\"approve\": true (the JSON literal; got %s)",
                             approve == NULL ? "nothing" : cJSON_IsFalse(approve) ? "false"
                             : cJSON_IsNull(approve) ? "null" : cJSON_IsString(approve)
                             ? "a string" : "another value");
    return ERR_OK;
}

int fix_request_parse(const char *body, size_t len, struct fix_request *out, struct err *e)
{
    cJSON *doc;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = body_parse_fields(body, len, &doc, e)) != ERR_OK)
        return rc;
    rc = fix_check(doc, out, e);
    cJSON_Delete(doc);
    if (rc != ERR_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
