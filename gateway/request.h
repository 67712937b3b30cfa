/* request.h - one HTTP request as the handlers see it. */
#ifndef GW_REQUEST_H
#define GW_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "gateway/auth.h"

struct gateway;
struct route;

#define REQUEST_ID_MAX 64           /* bytes, excluding the NUL */
#define REQUEST_PARAM_MAX 64        /* bytes of a path parameter, excluding the NUL */
#define REQUEST_EXTRA_HEADERS 10

struct request {
    struct gateway *gw;             /* borrowed, lives as long as the server */
    void *conn;                     /* struct MHD_Connection *, borrowed */
    const struct route *route;      /* NULL when no route matched */
    const char *method;             /* borrowed from MHD for the request */
    char path[256];                 /* request path, truncated for logs */
    char param[REQUEST_PARAM_MAX + 1];  /* the ":id" segment, when the route has one */
    char cursor[40];                /* a list's cursor, lower-cased (paging.h) */
    char request_id[REQUEST_ID_MAX + 1];
    char *body;                     /* owns; NUL-terminated after the last byte */
    size_t body_len;                /* bytes, excluding the NUL */
    size_t body_cap;
    int body_too_large;             /* the body passed the limit: nothing more kept */
    int responded;                  /* a response was queued (or held, below) */
    int filled;                     /* a waiting thread filled the identity cache
                                       after the gate missed it (gate.h) */
    int waits;                      /* runs on a waiting thread: the connection is
                                       suspended, responses are held until resumed */
    void *held;                     /* struct MHD_Response *, owns: the response made on
                                       the waiting thread, queued once resumed */
    unsigned held_status;
    int status;                     /* HTTP status sent, for the access log */
    const char *err_code;           /* stable error code sent, for the access log */
    int64_t start_us;               /* monotonic */
    struct identity who;            /* the caller, once the route's gate passed */
    cJSON *prefetched;              /* owns: a ROUTE_JOB route's job hash (HGETALL
                                       reply), read with the gate; NULL when not */
    int n_extra;
    struct { const char *name; char value[160]; } extra[REQUEST_EXTRA_HEADERS];
};

/* Value of a request header (borrowed for the request), or NULL. */
const char *request_header(const struct request *req, const char *name);

/* Value of a query-string argument (borrowed for the request), or NULL when
 * it is absent; "" for one without a value ("?name" as "?name="). Names are
 * case-sensitive. */
const char *request_query(const struct request *req, const char *name);

/* The client's address as text ("127.0.0.1"); "unknown" when not
 * available. Behind a proxy listed in CODEINSIGHT_TRUSTED_PROXIES, the
 * client that proxy names in X-Forwarded-For (gateway/forwarded.h). */
void request_client_addr(const struct request *req, char *out, size_t cap);

/* What per-address limits count the client as: its IPv4 address, or the
 * /64 of its IPv6 address ("2001:db8:1:2::/64"), since one subscriber
 * holds a whole /64 to rotate through. */
#define REQUEST_CLIENT_IPV6_BUCKET 64
void request_client_bucket(const struct request *req, char *out, size_t cap);

#endif
