/* routes.c - routes are data: this table is the whole HTTP surface. */
#include "gateway/routes.h"

#include "gateway/handlers.h"

#include <stdio.h>
#include <string.h>

static const struct route route_table[] = {
    /* method, pattern, flags, auth, rate bucket, handler */
    {"POST",   "/review",         ROUTE_BODY, AUTH_SELF, RC_SUBMIT, handle_review},
    {"GET",    "/job/:id",        ROUTE_JOB|ROUTE_VIEW|ROUTE_DB_LATER, AUTH_GATED, RC_READ,
     handle_job_get},
    {"DELETE", "/job/:id",        ROUTE_JOB|ROUTE_WAITS, AUTH_GATED, RC_READ, handle_job_cancel},
    {"GET",    "/job/:id/events", ROUTE_JOB|ROUTE_DB_LATER, AUTH_GATED, RC_READ, handle_job_events},
    {"GET",    "/jobs",           ROUTE_WAITS, AUTH_GATED, RC_READ, handle_jobs_list},
    {"GET",    "/whoami",         ROUTE_WAITS, AUTH_GATED, RC_READ, handle_whoami},
    {"GET",    "/usage",          ROUTE_WAITS, AUTH_GATED, RC_READ, handle_usage},
    {"POST",   "/auth/login",     ROUTE_BODY|ROUTE_WAITS, AUTH_PUBLIC, RC_AUTH, handle_login},
    {"POST",   "/keys",           ROUTE_BODY|ROUTE_WAITS, AUTH_GATED, RC_AUTH, handle_keys_create},
    {"GET",    "/keys",           ROUTE_WAITS, AUTH_GATED, RC_READ, handle_keys_list},
    {"DELETE", "/keys/:id",       ROUTE_WAITS, AUTH_GATED, RC_AUTH, handle_keys_revoke},
    {"GET",    "/healthz",        ROUTE_QUIET, AUTH_PUBLIC, RC_READ, handle_healthz},
    {"GET",    "/readyz",         ROUTE_QUIET|ROUTE_WAITS, AUTH_PUBLIC, RC_READ, handle_readyz},
    {"GET",    "/metrics",        ROUTE_QUIET, AUTH_PUBLIC, RC_READ, handle_metrics},
    {"GET",    "/openapi.json",   0, AUTH_PUBLIC, RC_READ, handle_openapi},
    {"GET",    "/queue/info",     0, AUTH_GATED, RC_READ, handle_queue_info},
    {"GET",    "/stats",          ROUTE_WAITS, AUTH_OPERATOR, RC_READ, handle_stats},
    {"POST",   "/apply-fix",      ROUTE_BODY|ROUTE_WAITS, AUTH_GATED, RC_AUTH, handle_apply_fix},
    {"GET",    "/audit",          ROUTE_WAITS, AUTH_GATED, RC_READ, handle_audit_list},
};

#define ROUTE_COUNT (sizeof route_table / sizeof route_table[0])

/* 1 when path matches pattern; copies the ":param" segment. */
static int pattern_match(const char *pattern, const char *path, char *param, size_t cap)
{
    while (*pattern != '\0') {
        if (*pattern == ':') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= cap)
                return 0;
            memcpy(param, path, n);
            param[n] = '\0';
            path += n;
            pattern += strcspn(pattern, "/");
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    return *path == '\0';
}

enum route_match routes_find(const char *method, const char *path, const struct route **out,
                             char *param, size_t cap, char *allow, size_t allow_cap)
{
    size_t used = 0;
    int path_seen = 0;
    /* HEAD is GET without the body (libmicrohttpd leaves the body out). */
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;

    allow[0] = '\0';
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &route_table[i];
        if (!pattern_match(r->pattern, path, param, cap))
            continue;
        if (strcmp(r->method, want) == 0) {
            *out = r;
            return ROUTE_MATCHED;
        }
        path_seen = 1;
        if (used < allow_cap) {
            int get = strcmp(r->method, "GET") == 0;
            int n = snprintf(allow + used, allow_cap - used, "%s%s%s", used ? ", " : "",
                             r->method, get ? ", HEAD" : "");
            if (n > 0)
                used += (size_t)n;
        }
    }
    return path_seen ? ROUTE_WRONG_METHOD : ROUTE_NO_PATH;
}
