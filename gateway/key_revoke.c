/* key_revoke.c - an API key's revocation written into the Redis identity cache. */
#include "gateway/key_revoke.h"

#include "common/err.h"
#include "common/job.h"
#include "common/kv.h"
#include "gateway/auth.h"
#include "gateway/ident_cache.h"

#include <stdio.h>

int key_revoke_cached(struct kv *kv, const char *key_hash, struct err *e)
{
    char cache[AUTH_CACHE_KEY_MAX], stale[128], ttl[2][24];
    cJSON *r = NULL;

    auth_key_cache_key(cache, key_hash);
    snprintf(stale, sizeof stale, "stale:%s", cache);
    snprintf(ttl[0], sizeof ttl[0], "%d", KEY_REVOKE_CACHE_TTL_S);
    snprintf(ttl[1], sizeof ttl[1], "%d", AUTH_STALE_TTL_S);
    if (kv_eval(kv, &job_script_key_revoke, 2, 5,
                (const char *[]){cache, stale, ttl[0], ttl[1], IDC_CHANNEL}, NULL, &r,
                e) != ERR_OK)
        return e->code;
    cJSON_Delete(r);
    return ERR_OK;
}
