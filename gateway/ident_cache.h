/* ident_cache.h - the gateway's own short-lived copy of identities, and the
 * tokens it leases from their Redis buckets, so most requests are admitted
 * without a round trip for identity or rate limit.
 *
 * Redis stays the truth. A copy is used for CODEINSIGHT_IDENTITY_CACHE_MS
 * (capped by CODEINSIGHT_AUTH_CACHE_TTL) and dropped at once when a key is
 * revoked: locally by the revoking replica, on every other replica through
 * the ci:auth channel (events.c), and entirely whenever that subscription
 * had to be renewed (a message may have been missed). A plan or operator
 * change is not announced: a copy shows it once refreshed from Redis.
 *
 * Leases: when a bucket's burst is at least 2 * IDC_LEASE_DIV, a script
 * takes up to burst / IDC_LEASE_DIV tokens (at most IDC_LEASE_MAX) at once
 * and this replica spends them locally. A replica thus holds at most 1/64
 * of a burst the others cannot use, and a caller can exceed a limit by that
 * much per replica; smaller buckets (every plan at its real rates) are
 * taken from one token at a time, exactly. RateLimit-Remaining counts the
 * bucket as last seen plus the tokens this replica still holds.
 *
 * Thread-safe: slots are locked in shards. Memory is fixed at creation. */
#ifndef GW_IDENT_CACHE_H
#define GW_IDENT_CACHE_H

#include <stdint.h>

#include "common/json.h"
#include "common/plans.h"

#define IDC_SLOTS 4096              /* identities kept; a colliding one replaces */
#define IDC_LEASE_DIV 64            /* a lease is at most 1/64 of the burst */
#define IDC_LEASE_MAX 256           /* tokens leased at once */
#define IDC_CHANNEL "ci:auth"       /* revoked identities' cache keys are published here */

struct idc;

/* What a request learns from an admission. */
struct idc_admitted {
    char user_id[37];
    char key_id[37];
    char email[320];
    char plan[16];
    int is_operator;                /* the hash's operator field is "1" */
    long long budget;               /* tokens per month */
    long limit, remaining, reset;   /* for the RateLimit-* headers */
};

/* What to ask a script for when idc_admit() could not admit: `want`
 * tokens, and the identity back when `want_identity`; `gen` is to be
 * handed to idc_record() with the script's reply. */
struct idc_ask {
    long want;
    int want_identity;
    uint64_t gen;                   /* the slot's forget generation when asked */
};

/* A cache keeping copies for ttl_ms; NULL when ttl_ms <= 0 (every call
 * below then does nothing but say "ask Redis for one token"). */
struct idc *idc_new(long ttl_ms);
void idc_free(struct idc *c);

/* Admits a request of class rc for the identity at cache_key (auth.h's
 * cache key) from the local copy: returns 1 with out filled when the copy
 * is fresh and a leased token was left, else 0 with ask filled. */
int idc_admit(struct idc *c, const char *cache_key, enum route_class rc, int64_t now_ms,
              struct idc_admitted *out, struct idc_ask *ask);

/* Records a script's admission of one request: identity (its HGETALL
 * reply; NULL when not asked for) refreshes the copy; taken tokens were
 * taken, one of them for this request; limit/remaining/reset as the script
 * saw the bucket afterwards. out, when not NULL, gets the headers' values
 * counting the tokens still held. gen is the ask's gen from the idc_admit()
 * made before the script ran: when idc_forget() or idc_clear() ran since,
 * the reply may predate a revocation and nothing is recorded (out gets the
 * script's values only). A new cache's generation is 0. */
void idc_record(struct idc *c, const char *cache_key, uint64_t gen, const cJSON *identity,
                enum route_class rc, long taken, long limit, long remaining, long reset,
                int64_t now_ms, struct idc_admitted *out);

/* Drops the copy of one identity (revoked), or of all (a missed message),
 * and makes every reply asked for before the call unrecordable. */
void idc_forget(struct idc *c, const char *cache_key);
void idc_clear(struct idc *c);

/* Tokens to lease from a bucket of this burst: 1 (no lease) below
 * 2 * IDC_LEASE_DIV. */
long idc_lease_size(long burst);

#endif
