/* stress_spec.c - parsing and checking a stress test's parameters. */
#include "common/stress_spec.h"

#include "common/config.h"
#include "common/err.h"
#include "common/http_client.h"
#include "common/utf8.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of a field name ("requests[19].headers.<40 bytes>" is 62 with its
 * NUL, which struct err's field holds); room for what the compiler cannot
 * see is bounded. */
#define FIELD_MAX 128

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                      "OPTIONS"};

/* Connection-level headers: libcurl sets them, or they would change what is
 * being measured. */
static const char *const refused_headers[] = {
    "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
    "Proxy-Connection", "TE", "Trailer", "Upgrade",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* base, less a trailing '/', then path into buf; 0, or -1 when it does not fit. */
static int join_url(const char *base, const char *path, char *buf, size_t cap)
{
    size_t n = strlen(base);
    int w;

    if (n > 0 && base[n - 1] == '/')
        n--;
    w = snprintf(buf, cap, "%.*s%s", (int)n, base, path);
    return w >= 0 && (size_t)w < cap ? 0 : -1;
}

/* Checks that v is a UTF-8 string of at most max bytes. */
static int check_string(const cJSON *v, const char *field, size_t max, struct err *e)
{
    size_t n;

    if (!cJSON_IsString(v))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be a string", field);
    n = strlen(v->valuestring);
    if (n > max)
        return err_set_field(e, ERR_FIELD_TOO_LONG, field, "%s is %zu bytes; the limit is %zu",
                             field, n, max);
    if (!utf8_valid(v->valuestring, n, NULL))
        return err_set_field(e, ERR_INVALID_ENCODING, field, "%s is not valid UTF-8", field);
    return ERR_OK;
}

/* A string member: *out borrows it, or is NULL when absent and optional. */
static int get_string(const cJSON *obj, const char *name, const char *field, int required,
                      size_t max, const char **out, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    int rc;

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return err_set_field(e, ERR_MISSING_FIELD, field, "%s is required", field);
        return ERR_OK;
    }
    if ((rc = check_string(v, field, max, e)) != ERR_OK)
        return rc;
    *out = v->valuestring;
    return ERR_OK;
}

/* An integer member in lo..hi; cap names the variable setting hi, or NULL.
 * Returns ERR_OK, 1 when absent and optional (*out untouched), or an error. */
static int get_int(const cJSON *obj, const char *name, const char *field, int required,
                   long lo, long hi, const char *cap, long *out, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;

    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return err_set_field(e, ERR_MISSING_FIELD, field, "%s is required", field);
        return 1;
    }
    if (!cJSON_IsNumber(v))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an integer", field);
    d = v->valuedouble;
    if (d != floor(d))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field, "%s must be an integer", field);
    if (d < (double)lo || d > (double)hi)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field,
                             "%s must be between %ld and %ld%s%s%s", field, lo, hi,
                             cap ? " (" : "", cap ? cap : "", cap ? ")" : "");
    *out = (long)d;
    return ERR_OK;
}

/* 1 when s holds a byte below 0x20 (tab allowed when tab_ok) or DEL. */
static int has_control(const char *s, int tab_ok)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f)
            return 1;
    }
    return 0;
}

/* 1 when name is an HTTP token (RFC 9110 tchar). */
static int is_token(const char *name)
{
    if (*name == '\0')
        return 0;
    for (; *name != '\0'; name++)
        if (!isalnum((unsigned char)*name) && strchr("!#$%&'*+-.^_`|~", *name) == NULL)
            return 0;
    return 1;
}

static int set_copy(char **dst, const char *src, struct err *e)
{
    *dst = strdup(src);
    return *dst != NULL ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
}

static int parse_headers(const cJSON *h, const char *prefix, struct stress_request *r,
                         struct err *e)
{
    char field[FIELD_MAX];
    const cJSON *v;
    int n = 0;

    snprintf(field, sizeof field, "%s.headers", prefix);
    if (h == NULL || cJSON_IsNull(h))
        return ERR_OK;
    if (!cJSON_IsObject(h))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, field,
                             "%s must be an object of header names to strings", field);
    cJSON_ArrayForEach(v, h) {
        n++;
    }
    if (n > STRESS_HEADERS_MAX)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field, "%s has %d headers; at most %d",
                             field, n, STRESS_HEADERS_MAX);
    cJSON_ArrayForEach(v, h) {
        char hfield[FIELD_MAX + STRESS_HEADER_NAME_MAX + 1];
        struct stress_header *hd = &r->headers[r->nheaders];
        int rc;

        if (strlen(v->string) > STRESS_HEADER_NAME_MAX || !is_token(v->string))
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, field,
                                 "%s: header names are 1 to %d token characters", field,
                                 STRESS_HEADER_NAME_MAX);
        snprintf(hfield, sizeof hfield, "%s.%s", field, v->string);
        for (size_t i = 0; i < COUNT(refused_headers); i++)
            if (strcasecmp(v->string, refused_headers[i]) == 0)
                return err_set_field(e, ERR_INVALID_FIELD_VALUE, hfield,
                                     "%s may not be set: the client manages it", hfield);
        if ((rc = check_string(v, hfield, STRESS_HEADER_VALUE_MAX, e)) != ERR_OK)
            return rc;
        if (has_control(v->valuestring, 1))
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, hfield,
                                 "%s must not contain control characters", hfield);
        if (set_copy(&hd->name, v->string, e) != ERR_OK ||
            set_copy(&hd->value, v->valuestring, e) != ERR_OK) {
            free(hd->name);
            hd->name = NULL;
            return ERR_INTERNAL;
        }
        r->nheaders++;
    }
    return ERR_OK;
}

/* requests[i] into r; base is the checked base_url. */
static int parse_request(const cJSON *item, int i, const char *base, struct stress_request *r,
                         struct err *e)
{
    char prefix[32], field[FIELD_MAX];
    char url[STRESS_URL_MAX + STRESS_PATH_MAX + 1];
    const char *method, *path, *body;
    struct http_url u;
    struct err ue;
    int rc, known = 0;

    snprintf(prefix, sizeof prefix, "requests[%d]", i);
    if (!cJSON_IsObject(item))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, prefix,
                             "%s must be an object {method, path, body?, weight?, headers?}",
                             prefix);
    snprintf(field, sizeof field, "%s.method", prefix);
    if ((rc = get_string(item, "method", field, 1, SIZE_MAX, &method, e)) != ERR_OK)
        return rc;
    for (size_t k = 0; k < COUNT(methods); k++)
        known |= strcmp(method, methods[k]) == 0;
    if (!known)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field,
                             "%s must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS", field);
    snprintf(field, sizeof field, "%s.path", prefix);
    if ((rc = get_string(item, "path", field, 1, STRESS_PATH_MAX, &path, e)) != ERR_OK)
        return rc;
    if (path[0] != '/' || has_control(path, 0))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field,
                             "%s must start with '/' and hold no control characters", field);
    /* The same parser as the transfer's: a path it refuses is a 400 now. */
    if (join_url(base, path, url, sizeof url) != 0 || http_url_parse(url, &u, &ue) != ERR_OK)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field,
                             "%s does not make a valid URL after base_url", field);
    snprintf(field, sizeof field, "%s.body", prefix);
    if ((rc = get_string(item, "body", field, 0, STRESS_BODY_MAX, &body, e)) != ERR_OK)
        return rc;
    if (body != NULL && strcmp(method, "HEAD") == 0)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, field, "a HEAD request has no body");
    snprintf(field, sizeof field, "%s.weight", prefix);
    r->weight = 1;
    rc = get_int(item, "weight", field, 0, 1, STRESS_WEIGHT_MAX, NULL, &r->weight, e);
    if (rc != ERR_OK && rc != 1)
        return rc;
    memcpy(r->method, method, strlen(method) + 1);
    if (set_copy(&r->path, path, e) != ERR_OK ||
        (body != NULL && set_copy(&r->body, body, e) != ERR_OK))
        return ERR_INTERNAL;
    return parse_headers(cJSON_GetObjectItemCaseSensitive(item, "headers"), prefix, r, e);
}

static int parse_base_url(const cJSON *doc, const char **out, struct err *e)
{
    struct http_url u;
    struct err ue;
    int rc = get_string(doc, "base_url", "base_url", 1, STRESS_URL_MAX, out, e);

    if (rc != ERR_OK)
        return rc;
    if (http_url_parse(*out, &u, &ue) != ERR_OK ||
        (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0))
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "base_url",
                             "base_url must be an absolute http:// or https:// URL");
    if (u.has_userinfo)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "base_url",
                             "base_url must not contain credentials");
    if (strpbrk(*out, "?#") != NULL || u.has_zone)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "base_url",
                             "base_url must not have a query, a fragment or an IPv6 zone; "
                             "put the query in each path");
    return ERR_OK;
}

static int parse_requests(const cJSON *doc, const char *base, struct stress_spec *s,
                          struct err *e)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "requests");
    const cJSON *item;
    int n, rc;

    if (a == NULL || cJSON_IsNull(a))
        return err_set_field(e, ERR_MISSING_FIELD, "requests", "requests is required");
    if (!cJSON_IsArray(a))
        return err_set_field(e, ERR_INVALID_FIELD_TYPE, "requests", "requests must be an array");
    n = cJSON_GetArraySize(a);
    if (n < 1 || n > STRESS_REQUESTS_MAX)
        return err_set_field(e, ERR_INVALID_FIELD_VALUE, "requests",
                             "requests must hold 1 to %d entries, not %d", STRESS_REQUESTS_MAX, n);
    cJSON_ArrayForEach(item, a) {
        rc = parse_request(item, s->nrequests, base, &s->requests[s->nrequests], e);
        s->nrequests++;     /* so stress_spec_free releases a partial entry */
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

static int parse_limits(const cJSON *doc, const struct config *cfg, struct stress_spec *s,
                        struct err *e)
{
    long planned;
    int rc;

    if ((rc = get_int(doc, "rate", "rate", 1, 1, cfg->stress_max_rps,
                      "CODEINSIGHT_STRESS_MAX_RPS", &s->rate, e)) != ERR_OK ||
        (rc = get_int(doc, "duration_s", "duration_s", 1, 1, cfg->stress_max_duration_s,
                      "CODEINSIGHT_STRESS_MAX_DURATION_S", &s->duration_s, e)) != ERR_OK)
        return rc;
    s->concurrency = cfg->stress_max_concurrency < STRESS_CONCURRENCY_DEFAULT
                         ? cfg->stress_max_concurrency : STRESS_CONCURRENCY_DEFAULT;
    rc = get_int(doc, "concurrency", "concurrency", 0, 1, cfg->stress_max_concurrency,
                 "CODEINSIGHT_STRESS_MAX_CONCURRENCY", &s->concurrency, e);
    if (rc != ERR_OK && rc != 1)
        return rc;
    s->concurrency_given = rc == ERR_OK;
    /* Both factors are capped by the configuration, far below LONG_MAX. */
    planned = s->rate * s->duration_s;
    s->max_requests = planned < cfg->stress_max_requests ? planned : cfg->stress_max_requests;
    rc = get_int(doc, "max_requests", "max_requests", 0, 1, cfg->stress_max_requests,
                 "CODEINSIGHT_STRESS_MAX_REQUESTS", &s->max_requests, e);
    s->max_requests_given = rc == ERR_OK;
    return rc == 1 ? ERR_OK : rc;
}

int stress_spec_parse(const cJSON *doc, const struct config *cfg, struct stress_spec **out,
                      struct err *e)
{
    struct stress_spec *s;
    const char *base;
    int rc;

    *out = NULL;
    if (!cJSON_IsObject(doc))
        return err_set(e, ERR_INVALID_JSON, "the body must be a JSON object");
    if ((rc = parse_base_url(doc, &base, e)) != ERR_OK)
        return rc;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if ((rc = parse_requests(doc, base, s, e)) != ERR_OK ||
        (rc = parse_limits(doc, cfg, s, e)) != ERR_OK ||
        (rc = set_copy(&s->base_url, base, e)) != ERR_OK) {
        stress_spec_free(s);
        return rc;
    }
    *out = s;
    return ERR_OK;
}

cJSON *stress_spec_to_json(const struct stress_spec *s)
{
    cJSON *o = cJSON_CreateObject();
    int ok = cJSON_AddStringToObject(o, "base_url", s->base_url) != NULL;
    cJSON *a = ok ? cJSON_AddArrayToObject(o, "requests") : NULL;

    ok = a != NULL;

    for (int i = 0; ok && i < s->nrequests; i++) {
        const struct stress_request *r = &s->requests[i];
        cJSON *q = cJSON_CreateObject();

        if (q != NULL && !cJSON_AddItemToArray(a, q)) {
            cJSON_Delete(q);
            q = NULL;
        }
        ok = q != NULL &&
             cJSON_AddStringToObject(q, "method", r->method) != NULL &&
             cJSON_AddStringToObject(q, "path", r->path) != NULL &&
             (r->body == NULL || cJSON_AddStringToObject(q, "body", r->body) != NULL) &&
             cJSON_AddNumberToObject(q, "weight", (double)r->weight) != NULL;
        if (ok && r->nheaders > 0) {
            cJSON *h = cJSON_AddObjectToObject(q, "headers");

            ok = h != NULL;
            for (int k = 0; ok && k < r->nheaders; k++)
                ok = cJSON_AddStringToObject(h, r->headers[k].name, r->headers[k].value) != NULL;
        }
    }
    /* A default is left out: the reader fills it in within its own caps. */
    ok = ok && cJSON_AddNumberToObject(o, "rate", (double)s->rate) != NULL &&
         cJSON_AddNumberToObject(o, "duration_s", (double)s->duration_s) != NULL &&
         (!s->concurrency_given ||
          cJSON_AddNumberToObject(o, "concurrency", (double)s->concurrency) != NULL) &&
         (!s->max_requests_given ||
          cJSON_AddNumberToObject(o, "max_requests", (double)s->max_requests) != NULL);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int stress_spec_url(const struct stress_spec *s, int i, char *buf, size_t cap)
{
    return join_url(s->base_url, s->requests[i].path, buf, cap);
}

void stress_spec_free(struct stress_spec *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nrequests; i++) {
        struct stress_request *r = &s->requests[i];

        free(r->path);
        free(r->body);
        for (int k = 0; k < r->nheaders; k++) {
            free(r->headers[k].name);
            free(r->headers[k].value);
        }
    }
    free(s->base_url);
    free(s);
}
