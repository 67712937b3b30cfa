/* http_parse.c - incremental HTTP/1.1 request-head parser for the embedded
 * status server. Feed it bytes as they arrive; it reports the method, the
 * target and up to HP_MAX_HEADERS headers once the blank line is seen. No
 * allocation: every string points into the caller's buffer. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HP_MAX_HEADERS 32
#define HP_MAX_HEAD 8192

enum hp_status { HP_INCOMPLETE = 0, HP_DONE = 1, HP_ERROR = -1, HP_TOO_LARGE = -2 };

struct hp_str {
    const char *p;
    size_t n;
};

struct hp_header {
    struct hp_str name;
    struct hp_str value;
};

struct hp_request {
    struct hp_str method;
    struct hp_str target;
    int minor_version;
    struct hp_header headers[HP_MAX_HEADERS];
    int nheaders;
    long content_length;  /* -1 when absent */
    int chunked;
    int keep_alive;
    size_t head_len;      /* bytes of the head, including the blank line */
};

static int is_tchar(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *find_crlf(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\r' && p[1] == '\n')
            return p;
    return NULL;
}

static int str_eq_ci(struct hp_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

static void trim(struct hp_str *s)
{
    while (s->n > 0 && (s->p[0] == ' ' || s->p[0] == '\t')) {
        s->p++;
        s->n--;
    }
    while (s->n > 0 && (s->p[s->n - 1] == ' ' || s->p[s->n - 1] == '\t'))
        s->n--;
}

static int parse_request_line(const char *p, const char *eol, struct hp_request *req)
{
    const char *sp1, *sp2;

    sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (sp1 == NULL || sp1 == p)
        return HP_ERROR;
    for (const char *q = p; q < sp1; q++)
        if (!is_tchar((unsigned char)*q))
            return HP_ERROR;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (sp2 == NULL || sp2 == sp1 + 1)
        return HP_ERROR;
    if (eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return HP_ERROR;
    if (sp2[8] != '0' && sp2[8] != '1')
        return HP_ERROR;
    req->method.p = p;
    req->method.n = (size_t)(sp1 - p);
    req->target.p = sp1 + 1;
    req->target.n = (size_t)(sp2 - sp1 - 1);
    req->minor_version = sp2[8] - '0';
    return 0;
}

static int parse_content_length(struct hp_str v, long *out)
{
    char buf[24];
    char *end;
    long n;

    if (v.n == 0 || v.n >= sizeof buf)
        return -1;
    memcpy(buf, v.p, v.n);
    buf[v.n] = '\0';
    n = strtol(buf, &end, 10);
    if (*end != '\0' || n < 0)
        return -1;
    *out = n;
    return 0;
}

static int apply_header(struct hp_request *req, const struct hp_header *h)
{
    if (str_eq_ci(h->name, "content-length")) {
        long n;
        if (parse_content_length(h->value, &n) != 0)
            return HP_ERROR;
        if (req->content_length >= 0 && req->content_length != n)
            return HP_ERROR;  /* conflicting lengths: request smuggling */
        req->content_length = n;
    } else if (str_eq_ci(h->name, "transfer-encoding")) {
        struct hp_str v = h->value;
        if (v.n >= 7 && strncasecmp(v.p + v.n - 7, "chunked", 7) == 0)
            req->chunked = 1;
    } else if (str_eq_ci(h->name, "connection")) {
        if (str_eq_ci(h->value, "close"))
            req->keep_alive = 0;
        else if (str_eq_ci(h->value, "keep-alive"))
            req->keep_alive = 1;
    }
    return 0;
}

/* Parses buf[0..len). HP_INCOMPLETE: call again with more bytes. */
int hp_parse(const char *buf, size_t len, struct hp_request *req)
{
    const char *p = buf, *end = buf + len, *eol;
    int rc;

    memset(req, 0, sizeof *req);
    req->content_length = -1;

    /* Tolerate empty lines before the request line (RFC 9112 2.2). */
    while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    eol = find_crlf(p, end);
    if (eol == NULL)
        return len > HP_MAX_HEAD ? HP_TOO_LARGE : HP_INCOMPLETE;
    if ((rc = parse_request_line(p, eol, req)) != 0)
        return rc;
    req->keep_alive = req->minor_version == 1;
    p = eol + 2;

    for (;;) {
        struct hp_header *h;
        const char *colon;

        eol = find_crlf(p, end);
        if (eol == NULL)
            return len > HP_MAX_HEAD ? HP_TOO_LARGE : HP_INCOMPLETE;
        if (eol == p)
            break;  /* blank line: end of the head */
        if (*p == ' ' || *p == '\t')
            return HP_ERROR;  /* obsolete line folding */
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            return HP_ERROR;
        for (const char *q = p; q < colon; q++)
            if (!is_tchar((unsigned char)*q))
                return HP_ERROR;
        h = &req->headers[req->nheaders++];
        h->name.p = p;
        h->name.n = (size_t)(colon - p);
        h->value.p = colon + 1;
        h->value.n = (size_t)(eol - colon - 1);
        trim(&h->value);
        if ((rc = apply_header(req, h)) != 0)
            return rc;
        p = eol + 2;
    }
    if (req->chunked && req->content_length >= 0)
        return HP_ERROR;
    req->head_len = (size_t)(eol + 2 - buf);
    if (req->head_len > HP_MAX_HEAD)
        return HP_TOO_LARGE;
    return HP_DONE;
}

const struct hp_str *hp_header(const struct hp_request *req, const char *name)
{
    for (int i = 0; i < req->nheaders; i++)
        if (str_eq_ci(req->headers[i].name, name))
            return &req->headers[i].value;
    return NULL;
}

/* Decodes %XX escapes of the path part of the target into out. */
int hp_decode_path(struct hp_str target, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < target.n && target.p[i] != '?'; i++) {
        char c = target.p[i];
        if (c == '%' && i + 2 < target.n && isxdigit((unsigned char)target.p[i + 1]) &&
            isxdigit((unsigned char)target.p[i + 2])) {
            char hex[3] = {target.p[i + 1], target.p[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

#ifdef HP_MAIN
int main(void)
{
    static char buf[HP_MAX_HEAD * 2];
    size_t len = fread(buf, 1, sizeof buf, stdin);
    struct hp_request req;
    char path[1024];

    switch (hp_parse(buf, len, &req)) {
    case HP_DONE:
        hp_decode_path(req.target, path, sizeof path);
        printf("%.*s %s (HTTP/1.%d), %d headers, body %ld%s\n", (int)req.method.n,
               req.method.p, path, req.minor_version, req.nheaders, req.content_length,
               req.chunked ? " chunked" : "");
        return 0;
    case HP_INCOMPLETE:
        puts("incomplete");
        return 1;
    default:
        puts("bad request");
        return 2;
    }
}
#endif
