/* view_cache.c - finished jobs' views in memory; see view_cache.h.
 *
 * Open addressing: a job lives in one of VIEW_CACHE_PROBE slots after its
 * hash. A put takes the job's own slot, else a free or expired one, else
 * the one expiring first. When the bytes pass the budget, a clock hand
 * frees entries (expired ones first, then any) until they fit. */
#include "gateway/view_cache.h"

#include "common/strhash.h"
#include "gateway/etag.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEW_CACHE_PROBE 8
#define VIEW_CACHE_SWEEP VIEW_CACHE_SLOTS   /* slots the hand passes per pass, at most */
#define VIEW_ID_MAX 36

struct slot {
    char id[VIEW_ID_MAX + 1];       /* "" when free */
    char owner[VIEW_ID_MAX + 1];
    char *text;                     /* owns */
    size_t len;
    char etag[ETAG_LEN];            /* text's */
    int64_t expires_ms;
};

struct view_cache {
    pthread_mutex_t mu;
    size_t max_bytes;
    size_t bytes;
    size_t entries;
    size_t hand;
    struct slot slots[VIEW_CACHE_SLOTS];
};

static void slot_clear(struct view_cache *c, struct slot *s)
{
    if (s->id[0] == '\0')
        return;
    c->bytes -= s->len;
    c->entries--;
    free(s->text);
    memset(s, 0, sizeof *s);
}

/* The live slot of job_id, or NULL. */
static struct slot *find(struct view_cache *c, const char *job_id, int64_t now_ms)
{
    size_t h = (size_t)strhash(job_id);

    for (size_t i = 0; i < VIEW_CACHE_PROBE; i++) {
        struct slot *s = &c->slots[(h + i) & (VIEW_CACHE_SLOTS - 1)];
        if (s->id[0] != '\0' && strcmp(s->id, job_id) == 0)
            return s->expires_ms > now_ms ? s : NULL;
    }
    return NULL;
}

struct view_cache *view_cache_new(size_t max_bytes)
{
    struct view_cache *c;

    if (max_bytes == 0 || (c = calloc(1, sizeof *c)) == NULL)
        return NULL;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

void view_cache_free(struct view_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < VIEW_CACHE_SLOTS; i++)
        free(c->slots[i].text);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int view_cache_has(struct view_cache *c, const char *job_id, int64_t now_ms)
{
    int found;

    if (c == NULL || strlen(job_id) > VIEW_ID_MAX)
        return 0;
    pthread_mutex_lock(&c->mu);
    found = find(c, job_id, now_ms) != NULL;
    pthread_mutex_unlock(&c->mu);
    return found;
}

int view_cache_get(struct view_cache *c, const char *job_id, int64_t now_ms, char **out,
                   size_t *len, char *owner, size_t owner_cap, char etag[ETAG_LEN])
{
    struct slot *s;
    int rc = 0;

    *out = NULL;
    *len = 0;
    if (c == NULL || strlen(job_id) > VIEW_ID_MAX)
        return 0;
    pthread_mutex_lock(&c->mu);
    if ((s = find(c, job_id, now_ms)) != NULL) {
        rc = -1;
        if ((*out = malloc(s->len + 1)) != NULL) {
            memcpy(*out, s->text, s->len);
            (*out)[s->len] = '\0';
            *len = s->len;
            if (owner_cap > 0)
                snprintf(owner, owner_cap, "%s", s->owner);
            memcpy(etag, s->etag, ETAG_LEN);
            rc = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Frees entries under the clock hand until need more bytes fit: expired
 * ones in a first pass, any in a second. */
static void make_room(struct view_cache *c, size_t need, int64_t now_ms)
{
    for (int pass = 0; pass < 2 && c->bytes + need > c->max_bytes; pass++) {
        for (size_t n = 0; n < VIEW_CACHE_SWEEP && c->bytes + need > c->max_bytes; n++) {
            struct slot *s = &c->slots[c->hand];
            c->hand = (c->hand + 1) & (VIEW_CACHE_SLOTS - 1);
            if (s->id[0] != '\0' && (pass == 1 || s->expires_ms <= now_ms))
                slot_clear(c, s);
        }
    }
}

void view_cache_put(struct view_cache *c, const char *job_id, const char *owner,
                    const char *text, size_t len, const char *tag, int64_t now_ms)
{
    struct slot *same = NULL, *vacant = NULL, *oldest = NULL, *victim;
    size_t h;
    char *copy;

    if (c == NULL || len > VIEW_CACHE_ENTRY_MAX || len > c->max_bytes ||
        strlen(job_id) > VIEW_ID_MAX || strlen(owner) > VIEW_ID_MAX || strlen(tag) >= ETAG_LEN)
        return;
    if ((copy = malloc(len + 1)) == NULL)
        return;
    memcpy(copy, text, len);
    copy[len] = '\0';

    pthread_mutex_lock(&c->mu);
    h = (size_t)strhash(job_id);
    for (size_t i = 0; i < VIEW_CACHE_PROBE && same == NULL; i++) {
        struct slot *s = &c->slots[(h + i) & (VIEW_CACHE_SLOTS - 1)];
        if (s->id[0] != '\0' && strcmp(s->id, job_id) == 0)
            same = s;
        else if (s->id[0] == '\0' || s->expires_ms <= now_ms)
            vacant = vacant != NULL ? vacant : s;
        else if (oldest == NULL || s->expires_ms < oldest->expires_ms)
            oldest = s;
    }
    victim = same != NULL ? same : vacant != NULL ? vacant : oldest;
    slot_clear(c, victim);
    make_room(c, len, now_ms);
    if (c->bytes + len > c->max_bytes) {
        pthread_mutex_unlock(&c->mu);
        free(copy);
        return;
    }
    memcpy(victim->id, job_id, strlen(job_id) + 1);
    memcpy(victim->owner, owner, strlen(owner) + 1);
    victim->text = copy;
    victim->len = len;
    memcpy(victim->etag, tag, strlen(tag) + 1);
    victim->expires_ms = now_ms + VIEW_CACHE_TTL_MS;
    c->bytes += len;
    c->entries++;
    pthread_mutex_unlock(&c->mu);
}

void view_cache_stats(struct view_cache *c, size_t *entries, size_t *bytes)
{
    *entries = *bytes = 0;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    *entries = c->entries;
    *bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
}
