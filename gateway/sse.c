/* sse.c - event ids and frames of text/event-stream. */
#include "gateway/sse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses n decimal digits at s (1 <= n <= 20) into *out; -1 on overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int sse_id_parse(const char *s, struct sse_id *id)
{
    const char *dash;
    struct sse_id v = {0, 0};

    id->ms = id->seq = 0;
    if (s == NULL)
        return -1;
    dash = strchr(s, '-');
    if (dash == NULL) {
        if (parse_u64(s, strlen(s), &v.ms) != 0)
            return -1;
    } else if (parse_u64(s, (size_t)(dash - s), &v.ms) != 0 ||
               parse_u64(dash + 1, strlen(dash + 1), &v.seq) != 0) {
        return -1;
    }
    *id = v;
    return 0;
}

int sse_id_cmp(const struct sse_id *a, const struct sse_id *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

char *sse_id_str(const struct sse_id *id, char *buf)
{
    snprintf(buf, SSE_ID_MAX + 1, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
    return buf;
}

int sse_type_final(const char *type)
{
    return strcmp(type, "done") == 0 || strcmp(type, "failed") == 0 ||
           strcmp(type, "cancelled") == 0;
}

char *sse_frame(const char *id, const char *type, const char *data, size_t *len)
{
    size_t lines = 1, cap, used;
    char *out;
    const char *p;

    for (p = data; *p != '\0'; p++)
        lines += *p == '\n' || *p == '\r';
    /* "id: " id "\n" "event: " type "\n", then "data: " line "\n" each, "\n". */
    cap = 4 + strlen(id) + 1 + 7 + strlen(type) + 1 + lines * 7 + strlen(data) + 2;
    if ((out = malloc(cap)) == NULL)
        return NULL;
    used = (size_t)snprintf(out, cap, "id: %s\nevent: %s\n", id, type);
    p = data;
    for (;;) {
        size_t n = strcspn(p, "\r\n");
        memcpy(out + used, "data: ", 6);
        memcpy(out + used + 6, p, n);
        used += 6 + n;
        out[used++] = '\n';
        p += n;
        if (*p == '\0')
            break;
        /* A CRLF pair is one line break. */
        p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
    }
    out[used++] = '\n';
    out[used] = '\0';
    *len = used;
    return out;
}

char *sse_retry(long ms, size_t *len)
{
    char *out = malloc(40);
    int n;

    if (out == NULL)
        return NULL;
    n = snprintf(out, 40, "retry: %ld\n\n", ms);
    *len = (size_t)n;
    return out;
}
