/* sse.h - Server-Sent Events on the wire: event ids and frames.
 *
 * Event ids are Redis stream entry ids, "<ms>-<seq>", so they sort like the
 * events of a job's stream (jobev:<id>); SSE_ID_QUEUED ("0-1") is the
 * synthesised first event, before any entry. A frame is
 *
 *     id: 1767225600000-0\nevent: running\ndata: {"type":"running",...}\n\n
 *
 * and a heartbeat is the comment ": heartbeat\n\n". Pure functions: no
 * locks, no I/O.
 */
#ifndef GW_SSE_H
#define GW_SSE_H

#include <stddef.h>
#include <stdint.h>

/* Longest id text: two 20-digit numbers and the dash, excluding the NUL. */
#define SSE_ID_MAX 41
/* Longest event type accepted from a stream entry, bytes. */
#define SSE_TYPE_MAX 32
/* Longest event data accepted from a stream entry, bytes: events are small;
 * anything longer is not ours. */
#define SSE_DATA_MAX 4096

#define SSE_HEARTBEAT ": heartbeat\n\n"

struct sse_id {
    uint64_t ms;
    uint64_t seq;
};

/* The synthesised queued event's id: after "0-0", before every entry. */
#define SSE_ID_QUEUED ((struct sse_id){0, 1})

/* Parses "<ms>-<seq>" (decimal digits only, each part at most 20 digits
 * and within 64 bits) into id. A bare "<ms>" means "<ms>-0", as in Redis.
 * Returns 0, or -1 when s is not an id (id is then zeroed). */
int sse_id_parse(const char *s, struct sse_id *id);

/* <0, 0, >0 as a sorts before, with, after b. */
int sse_id_cmp(const struct sse_id *a, const struct sse_id *b);

/* Writes "<ms>-<seq>" into buf (at least SSE_ID_MAX + 1 bytes). Returns buf. */
char *sse_id_str(const struct sse_id *id, char *buf);

/* 1 for the types that end a job's stream ("done", "failed", "cancelled"). */
int sse_type_final(const char *type);

/* The frame for one event (owns; free()); *len gets its length. type must
 * be a single word; data may hold line breaks (each line becomes a "data:"
 * line). Returns NULL when out of memory. */
char *sse_frame(const char *id, const char *type, const char *data, size_t *len);

/* The "retry: <ms>\n\n" hint (owns; free()) with its length in *len. */
char *sse_retry(long ms, size_t *len);

#endif
