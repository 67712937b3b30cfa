/* respond.h - every HTTP response leaves through here; errors become
 * RFC 9457 application/problem+json in exactly one place.
 */
#ifndef GW_RESPOND_H
#define GW_RESPOND_H

#include "common/json.h"

struct err;
struct request;

/* Adds a header to the response about to be sent (Location, Allow,
 * Retry-After...). name is a borrowed literal; value is copied (truncated at
 * 159 bytes). At most REQUEST_EXTRA_HEADERS per request. */
void respond_header(struct request *req, const char *name, const char *value);

/* Sends body (takes) as application/json with the given status. A NULL body
 * (allocation failure) becomes a 500 problem. */
void respond_json(struct request *req, int status, cJSON *body);

/* Sends text (takes; NUL-terminated) as content type ctype (a borrowed
 * literal) with the given status: the Prometheus exposition. A NULL text
 * (allocation failure) becomes a 500 problem. */
void respond_text(struct request *req, int status, const char *ctype, char *text);

/* Sends text (takes; NUL-terminated) as 200, content type ctype (a borrowed
 * literal), with its entity tag (gateway/etag.h): tag, or computed from the
 * text when tag is NULL. When the request's If-None-Match names the tag,
 * 304 Not Modified instead, with the tag and no body. A NULL text becomes a
 * 500 problem. */
void respond_tagged(struct request *req, const char *ctype, char *text, const char *tag);

/* A streamed body's source: copies up to max bytes into buf and returns how
 * many; returns 0 after suspending the connection (server_suspend) until
 * more is ready, or -1 at the end of the body. */
typedef long respond_reader(void *arg, char *buf, size_t max);

/* Runs once when a streamed response is gone; arg is the reader's. */
typedef void respond_reader_done(void *arg);

/* Sends 200 with a body of unknown length (chunked) read from reader, as
 * content type ctype (a borrowed literal), marked for no caching and no
 * proxy buffering, and closing the connection at its end. Takes arg: done
 * runs once the response is gone, also when it could not be sent. */
void respond_stream(struct request *req, const char *ctype, respond_reader *reader,
                    respond_reader_done *done, void *arg);

/* Sends a response without a body (204). */
void respond_empty(struct request *req, int status);

/* Sends the problem+json for e: type, title, status, detail, code,
 * request_id, and field when e names one. */
void respond_error(struct request *req, const struct err *e);

/* Same, merging the members of extra (takes; may be NULL) into the body. */
void respond_error_with(struct request *req, const struct err *e, cJSON *extra);

#endif
