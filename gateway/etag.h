/* etag.h - entity tags of GET /job/:id, and If-None-Match against them
 * (RFC 9110, 8.8.3 and 13.1.2).
 *
 * A tag is strong and names the bytes of one representation: the first 128
 * bits of the body's SHA-256, as hex in quotes. A poller that sends it back
 * in If-None-Match gets 304 Not Modified, without a body, until the job's
 * view (its status, its progress, its result) changes.
 *
 *     char tag[ETAG_LEN];
 *     etag_of(body, len, tag);
 *     if (etag_none_match(request_header(req, "If-None-Match"), tag)) ... 304
 */
#ifndef GW_ETAG_H
#define GW_ETAG_H

#include <stddef.h>

/* '"', 32 hex digits, '"', NUL. */
#define ETAG_LEN 35
/* If-None-Match values longer than this match nothing (and are not read):
 * a client keeps a few tags, not hundreds. */
#define ETAG_HEADER_MAX 4096

/* The tag of body (len bytes) into out. */
void etag_of(const char *body, size_t len, char out[ETAG_LEN]);

/* 1 when header, an If-None-Match value (NULL: absent), names tag: "*", or
 * a comma-separated list of entity tags one of which is tag by the weak
 * comparison (a W/ prefix is ignored). Else 0, also for a malformed list or
 * one over ETAG_HEADER_MAX bytes: the full response is then sent. */
int etag_none_match(const char *header, const char *tag);

#endif
