/* err.c - error codes, their names, titles and HTTP statuses. */
#include "common/err.h"

#include "common/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *title;
    int status;
} err_table[ERR__COUNT] = {
    [ERR_OK]                     = {"ok", "OK", 200},
    [ERR_INTERNAL]               = {"internal_error", "Internal error", 500},
    [ERR_INVALID_JSON]           = {"invalid_json", "Invalid JSON", 400},
    [ERR_INVALID_FIELD_TYPE]     = {"invalid_field_type", "Wrong field type", 400},
    [ERR_MISSING_FIELD]          = {"missing_field", "Missing field", 400},
    [ERR_INVALID_REQUEST_TYPE]   = {"invalid_request_type", "Unknown request type", 400},
    [ERR_INVALID_FILE_PATH]      = {"invalid_file_path", "Invalid file path", 400},
    [ERR_INVALID_ENCODING]       = {"invalid_encoding", "File content is not UTF-8 text", 400},
    [ERR_FIELD_TOO_LONG]         = {"field_too_long", "Field too long", 400},
    [ERR_INVALID_FIELD_VALUE]    = {"invalid_field_value", "Invalid field value", 400},
    [ERR_BODY_TOO_LARGE]         = {"body_too_large", "Request body too large", 413},
    [ERR_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type", "Unsupported media type", 415},
    [ERR_METHOD_NOT_ALLOWED]     = {"method_not_allowed", "Method not allowed", 405},
    [ERR_NOT_FOUND]              = {"not_found", "Not found", 404},
    [ERR_JOB_NOT_FOUND]          = {"job_not_found", "Job not found", 404},
    [ERR_REDIS_UNAVAILABLE]      = {"redis_unavailable", "Queue unavailable", 503},
    [ERR_DATABASE_UNAVAILABLE]   = {"database_unavailable", "Database unavailable", 503},
    [ERR_NOT_READY]              = {"not_ready", "Not ready", 503},
    [ERR_CONFIG]                 = {"config_error", "Configuration error", 500},
    [ERR_IO]                     = {"io_error", "I/O error", 500},
    [ERR_TIMEOUT]                = {"timeout", "Timed out", 504},
    [ERR_PROTOCOL]               = {"protocol_error", "Unexpected reply from a dependency", 502},
    [ERR_MISSING_CREDENTIALS]    = {"missing_credentials", "Authentication required", 401},
    [ERR_MALFORMED_CREDENTIALS]  = {"malformed_credentials", "Malformed credentials", 401},
    [ERR_TOKEN_TOO_LARGE]        = {"token_too_large", "Credential too large", 401},
    [ERR_INVALID_API_KEY]        = {"invalid_api_key", "Invalid API key", 401},
    [ERR_REVOKED_API_KEY]        = {"revoked_api_key", "Revoked API key", 401},
    [ERR_INVALID_TOKEN]          = {"invalid_token", "Invalid token", 401},
    [ERR_TOKEN_ALG_NOT_ALLOWED]  = {"token_alg_not_allowed", "Token algorithm not allowed", 401},
    [ERR_TOKEN_EXPIRED]          = {"token_expired", "Token expired", 401},
    [ERR_TOKEN_NOT_YET_VALID]    = {"token_not_yet_valid", "Token not yet valid", 401},
    [ERR_TOKEN_WRONG_ISSUER]     = {"token_wrong_issuer", "Token issuer not accepted", 401},
    [ERR_TOKEN_WRONG_AUDIENCE]   = {"token_wrong_audience", "Token audience not accepted", 401},
    [ERR_TOKEN_UNKNOWN_KID]      = {"token_unknown_kid", "Token signing key unknown", 401},
    [ERR_INVALID_CREDENTIALS]    = {"invalid_credentials", "Invalid email or password", 401},
    [ERR_RATE_LIMITED]           = {"rate_limited", "Too many requests", 429},
    [ERR_IDEMPOTENCY_KEY_REUSED] = {"idempotency_key_reused",
                                    "Idempotency key reused with another body", 422},
    [ERR_INVALID_IDEMPOTENCY_KEY] = {"invalid_idempotency_key", "Invalid Idempotency-Key", 400},
    [ERR_FEATURE_DISABLED]       = {"feature_disabled", "Feature disabled", 403},
    [ERR_TARGET_NOT_ALLOWED]     = {"target_not_allowed", "Target not allowed", 422},
    [ERR_INVALID_DIFF]           = {"invalid_diff", "Invalid diff", 422},
    [ERR_DIFF_MISMATCH]          = {"diff_mismatch", "Diff does not match the file", 422},
    [ERR_UNKNOWN_FIELD]          = {"unknown_field", "Unknown field", 400},
    [ERR_APPROVAL_REQUIRED]      = {"approval_required", "Approval required", 400},
    [ERR_JOB_NOT_DONE]           = {"job_not_done", "Job not done", 409},
    [ERR_FINDING_NOT_FOUND]      = {"finding_not_found", "Finding not found", 404},
    [ERR_FIX_NOT_AVAILABLE]      = {"fix_not_available", "No fix to apply", 422},
    [ERR_BASE_MISMATCH]          = {"base_mismatch", "File differs from the one reviewed", 409},
    [ERR_PATCH_DOES_NOT_APPLY]   = {"patch_does_not_apply", "Fix does not apply", 422},
    [ERR_SUBSCRIBERS_FULL]       = {"subscribers_full", "Too many event streams on this server",
                                    503},
    [ERR_TOO_MANY_STREAMS]       = {"too_many_streams", "Too many event streams open", 429},
    [ERR_SERVER_BUSY]            = {"server_busy", "Server busy", 503},
    [ERR_QUEUE_FULL]             = {"queue_full", "Queue full", 503},
    [ERR_JOB_FINISHED]           = {"job_finished", "Job already finished", 409},
    [ERR_OPERATOR_ONLY]          = {"operator_only", "Operators only", 403},
};

static int err_valid(enum err_code code)
{
    return (int)code >= 0 && code < ERR__COUNT && err_table[code].name != NULL;
}

const char *err_code_str(enum err_code code)
{
    return err_valid(code) ? err_table[code].name : "internal_error";
}

const char *err_title(enum err_code code)
{
    return err_valid(code) ? err_table[code].title : "Internal error";
}

int err_http_status(enum err_code code)
{
    return err_valid(code) ? err_table[code].status : 500;
}

static enum err_code err_vset(struct err *e, enum err_code code, const char *field,
                              const char *fmt, va_list ap)
{
    if (e == NULL)
        return code;
    e->code = code;
    e->http_status = err_http_status(code);
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    /* Cut when too long, but never inside a character: messages quote
     * request text (a path, a field) and go out in JSON problem details. */
    utf8_vfmt(e->msg, sizeof e->msg, fmt, ap);
    return code;
}

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

enum err_code err_set_field(struct err *e, enum err_code code, const char *field,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, field, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct err *e)
{
    if (e == NULL)
        return;
    memset(e, 0, sizeof *e);
}
