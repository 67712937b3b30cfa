/* err.h - the one error type.
 *
 * Every fallible function returns enum err_code, and fills a struct err when
 * the caller passed one. The code is stable (part of the public API: it is the
 * `code` member of every problem+json body); the message is for humans.
 * Filling an error never allocates.
 */
#ifndef CI_ERR_H
#define CI_ERR_H

#include <stddef.h>

/* Append-only: clients and dashboards key on these names. */
enum err_code {
    ERR_OK = 0,
    ERR_INTERNAL,               /* a bug or an impossible state */
    ERR_INVALID_JSON,
    ERR_INVALID_FIELD_TYPE,
    ERR_MISSING_FIELD,
    ERR_INVALID_REQUEST_TYPE,
    ERR_INVALID_FILE_PATH,
    ERR_INVALID_ENCODING,
    ERR_FIELD_TOO_LONG,
    ERR_INVALID_FIELD_VALUE,
    ERR_BODY_TOO_LARGE,
    ERR_UNSUPPORTED_MEDIA_TYPE,
    ERR_METHOD_NOT_ALLOWED,
    ERR_NOT_FOUND,
    ERR_JOB_NOT_FOUND,
    ERR_REDIS_UNAVAILABLE,
    ERR_DATABASE_UNAVAILABLE,
    ERR_NOT_READY,
    ERR_CONFIG,                 /* bad environment variable */
    ERR_IO,                     /* a system call failed */
    ERR_TIMEOUT,
    ERR_PROTOCOL,               /* a peer (Redis, PostgreSQL, a linter) said something unexpected */
    ERR_MISSING_CREDENTIALS,
    ERR_MALFORMED_CREDENTIALS,
    ERR_TOKEN_TOO_LARGE,
    ERR_INVALID_API_KEY,
    ERR_REVOKED_API_KEY,
    ERR_INVALID_TOKEN,
    ERR_TOKEN_ALG_NOT_ALLOWED,
    ERR_TOKEN_EXPIRED,
    ERR_TOKEN_NOT_YET_VALID,
    ERR_TOKEN_WRONG_ISSUER,
    ERR_TOKEN_WRONG_AUDIENCE,
    ERR_TOKEN_UNKNOWN_KID,
    ERR_INVALID_CREDENTIALS,    /* login: wrong email or password */
    ERR_RATE_LIMITED,
    ERR_IDEMPOTENCY_KEY_REUSED,
    ERR_INVALID_IDEMPOTENCY_KEY,
    ERR_FEATURE_DISABLED,       /* an operator has not enabled this (stress tests) */
    ERR_TARGET_NOT_ALLOWED,     /* a stress-test target outside the allow-list, or private */
    ERR_INVALID_DIFF,           /* `diff` is not a well-formed unified diff */
    ERR_DIFF_MISMATCH,          /* `diff` does not describe `file_content` as its new side */
    ERR_UNKNOWN_FIELD,          /* a request member the route does not know */
    ERR_APPROVAL_REQUIRED,      /* apply-fix without "approve": true */
    ERR_JOB_NOT_DONE,           /* the job is queued or running (export), or not done (apply-fix) */
    ERR_FINDING_NOT_FOUND,
    ERR_FIX_NOT_AVAILABLE,      /* the finding has no fix, or the reviewed file was not kept */
    ERR_BASE_MISMATCH,          /* the caller's file is not the one reviewed */
    ERR_PATCH_DOES_NOT_APPLY,   /* the fix does not apply to the reviewed file */
    ERR_SUBSCRIBERS_FULL,       /* this gateway holds its most event streams */
    ERR_TOO_MANY_STREAMS,       /* the caller holds its most event streams */
    ERR_SERVER_BUSY,            /* every waiting thread is taken and their queue is full */
    ERR_QUEUE_FULL,             /* the job's stream holds CODEINSIGHT_QUEUE_MAX entries */
    ERR_JOB_FINISHED,           /* cancelling a job that is done or failed */
    ERR_OPERATOR_ONLY,          /* a route for operators (users.operator), the caller is not one */
    ERR__COUNT
};

#define ERR_MSG_MAX 256

struct err {
    enum err_code code;
    int http_status;            /* derived from code by err_set() */
    char field[64];             /* offending request field, "" when none */
    char msg[ERR_MSG_MAX];      /* human-readable detail, NUL-terminated */
};

/* Stable snake_case name of a code ("invalid_json"); never NULL. */
const char *err_code_str(enum err_code code);

/* Short human title of a code ("Invalid JSON"); never NULL. */
const char *err_title(enum err_code code);

/* HTTP status a code maps to (400, 404, 503, ...). */
int err_http_status(enum err_code code);

/* Fills e (may be NULL) with code and a printf-style message; returns code,
 * so callers can write `return err_set(e, ERR_IO, "open %s: %s", p, strerror(errno));`. */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, naming the offending request field. */
enum err_code err_set_field(struct err *e, enum err_code code, const char *field,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Resets e to ERR_OK with empty message and field. */
void err_clear(struct err *e);

#endif
