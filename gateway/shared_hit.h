/* shared_hit.h - another user's finished job answering a submission from the
 * shared result cache (CODEINSIGHT_RESULT_CACHE_SHARED=1): the caller gets a
 * finished job of their own, a copy of its result (docs/admission.md,
 * "Result cache"), which they may read, export, fix from and list like any
 * other of theirs. */
#ifndef CI_GATEWAY_SHARED_HIT_H
#define CI_GATEWAY_SHARED_HIT_H

#include "common/crypto.h"

struct err;
struct request;

/* The caller's copy of the finished job src, made in PostgreSQL (one
 * statement, JOB_SQL_COPY) on this thread, which may wait: its id into out.
 * One copy per caller and source: a second hit, or a replayed
 * Idempotency-Key, gets the first one's id. caller is the caller's user
 * id; req gives the request id and the database; repo_id is the one the
 * submission sent, or NULL. Returns ERR_OK; ERR_JOB_NOT_FOUND when src is
 * not a done job in PostgreSQL; else the database's error. */
int shared_hit_copy(struct request *req, const char *src, const char *caller,
                    const char *repo_id, char out[CRYPTO_UUID_LEN], struct err *e);

#endif
