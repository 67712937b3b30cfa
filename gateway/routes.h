/* routes.h - the route table: method, path pattern, body, handler. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <stddef.h>

#include "common/plans.h"

struct request;

typedef void route_handler(struct request *req);

#define ROUTE_BODY   0x1u   /* reads a JSON request body */
#define ROUTE_QUIET  0x2u   /* probes: access line at debug level */
#define ROUTE_JOB    0x4u   /* ":param" is a job id: lower-cased, its hot copy read with the gate */
#define ROUTE_VIEW   0x8u   /* answers finished jobs from the view cache: no hot-copy read then */
#define ROUTE_WAITS  0x10u  /* waits on I/O for long (PostgreSQL, argon2, admission): run on a
                               waiting thread (offload.h), not on a request thread */
#define ROUTE_DB_LATER 0x20u /* runs on a request thread, but a job view only PostgreSQL
                               holds (or any while Redis is down) is read on a waiting
                               thread: the handler runs again there (jobs.h) */

/* Who may call a route. */
enum route_auth {
    AUTH_PUBLIC,                /* no identity (probes, login) */
    AUTH_GATED,                 /* identity + the class' bucket, checked before the handler */
    AUTH_SELF,                  /* identity checked by the handler itself, in one script
                                   with the rest of its work (submissions) */
    AUTH_OPERATOR               /* AUTH_GATED, then the caller must be an operator
                                   (users.operator): else 403 operator_only. For figures
                                   over every user, which no one customer may read */
};

struct route {
    const char *method;
    const char *pattern;        /* literal segments and one ":param" segment at most */
    unsigned flags;
    enum route_auth auth;
    enum route_class rclass;    /* bucket of AUTH_GATED and AUTH_OPERATOR routes */
    route_handler *handler;
};

enum route_match { ROUTE_MATCHED, ROUTE_NO_PATH, ROUTE_WRONG_METHOD };

/* Finds the route for method and path. On ROUTE_MATCHED sets *out and copies
 * the ":param" segment into param (cap bytes; a longer segment never
 * matches). On ROUTE_WRONG_METHOD writes the allowed methods ("GET, POST")
 * into allow (allow_cap bytes). */
enum route_match routes_find(const char *method, const char *path, const struct route **out,
                             char *param, size_t cap, char *allow, size_t allow_cap);

#endif
