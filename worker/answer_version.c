/* answer_version.c - the digest of what a worker's answers depend on
 * (answer_version.h). */
#include "worker/answer_version.h"

#include "common/crypto.h"
#include "common/decimal.h"
#include "common/job.h"

#include <string.h>

/* Feeds one length-prefixed part, so that no two bases read alike. */
static void part(struct crypto_sha256_state *st, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char len[DECIMAL_MAX + 1];
    size_t k = decimal_put(len, n);

    len[k++] = ':';
    crypto_sha256_update(st, len, k);
    if (n > 0)
        crypto_sha256_update(st, s, n);
}

static void part_num(struct crypto_sha256_state *st, long v)
{
    char s[DECIMAL_STR_MAX];

    decimal_str(s, v);
    part(st, s);
}

void answer_version(const struct answer_basis *b, char out[ANSWER_VERSION_LEN])
{
    struct crypto_sha256_state st;
    char hex[65];

    crypto_sha256_init(&st);
    part(&st, JOB_PIPELINE_VERSION);
    part(&st, b->task);
    part(&st, b->prompt);
    part(&st, b->provider);
    part(&st, b->model);
    part_num(&st, b->input_max_bytes);
    part_num(&st, b->debug_fix_attempts);
    part(&st, b->linters_missing);
    part(&st, b->linters_not_run);
    part_num(&st, b->sandbox);
    crypto_sha256_final_hex(&st, hex);
    /* 64 bits: a collision would take two deployments' bases, not an attacker's. */
    memcpy(out, hex, ANSWER_VERSION_LEN - 1);
    out[ANSWER_VERSION_LEN - 1] = '\0';
}
