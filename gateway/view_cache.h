/* view_cache.h - finished jobs' JSON views, rendered once and kept in the
 * gateway's memory.
 *
 * A done or failed job does not change, and clients poll it: GET /job/:id
 * of a cached job is answered after the gate (identity and bucket, one
 * Redis call that no longer reads the job's hash) with a copy of the bytes,
 * instead of reading, parsing, building and printing the view again.
 *
 * Bounded: at most VIEW_CACHE_SLOTS entries and max_bytes of views; a view
 * larger than VIEW_CACHE_ENTRY_MAX is not kept. An entry lives
 * VIEW_CACHE_TTL_MS (a job delivered twice after a crash may be finished
 * twice; the second result shows within that time). Ownership is checked by
 * the caller: an entry names its owner. Thread-safe (one mutex; an entry is
 * copied under it). */
#ifndef GW_VIEW_CACHE_H
#define GW_VIEW_CACHE_H

#include "gateway/etag.h"

#include <stddef.h>
#include <stdint.h>

#define VIEW_CACHE_SLOTS 8192           /* power of two */
#define VIEW_CACHE_ENTRY_MAX (256 * 1024)
#define VIEW_CACHE_TTL_MS (300 * 1000)

struct view_cache;

/* A cache of at most max_bytes of views; NULL when max_bytes is 0 (off) or
 * out of memory. */
struct view_cache *view_cache_new(size_t max_bytes);

void view_cache_free(struct view_cache *c);

/* 1 when job_id (lower-case) has a live entry; c may be NULL (0). A hint
 * only: the entry may be gone by the time view_cache_get runs. */
int view_cache_has(struct view_cache *c, const char *job_id, int64_t now_ms);

/* The view of job_id: 1 with *out (malloc'd, NUL-terminated, *len bytes),
 * owner copied into owner (owner_cap bytes) and the view's entity tag (as
 * view_cache_put was given it) into etag; 0 when absent or
 * expired; -1 when out of memory. c may be NULL (0). */
int view_cache_get(struct view_cache *c, const char *job_id, int64_t now_ms, char **out,
                   size_t *len, char *owner, size_t owner_cap, char etag[ETAG_LEN]);

/* Keeps a copy of text (len bytes) as job_id's view, owned by owner, with
 * its entity tag tag (etag_of(text), which the caller has computed for its
 * own answer). Replaces an older entry of the same job. Does nothing when
 * c is NULL, the view is too large, or memory is short. */
void view_cache_put(struct view_cache *c, const char *job_id, const char *owner,
                    const char *text, size_t len, const char *tag, int64_t now_ms);

/* Entries and bytes held, for tests and metrics. */
void view_cache_stats(struct view_cache *c, size_t *entries, size_t *bytes);

#endif
