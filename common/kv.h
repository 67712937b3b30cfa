/* kv.h - blocking Redis connections (the gateway's; one per thread, never shared).
 *
 * Replies are converted to cJSON: bulk and status strings become strings,
 * integers numbers, nil null, arrays arrays. A Redis error reply is reported
 * as ERR_PROTOCOL with Redis' message; a connection failure as
 * ERR_REDIS_UNAVAILABLE, after which the connection must be freed.
 *
 *     struct kv *kv = kv_connect(&url, 1000, &e);
 *     cJSON *r = NULL;
 *     if (kv_call(kv, 2, (const char *[]){"GET", "k"}, NULL, &r, &e) == ERR_OK) ...
 */
#ifndef CI_KV_H
#define CI_KV_H

#include <stddef.h>

#include "common/json.h"

struct err;
struct kv;

#define KV_HOST_MAX 256
#define KV_PASSWORD_MAX 256

struct kv_url {
    char host[KV_HOST_MAX];
    int port;
    char password[KV_PASSWORD_MAX];     /* "" when none; secret */
    int db;
};

/* A Lua script known by name. sha is filled by kv_script_init(). */
struct kv_script {
    const char *name;
    const char *src;                    /* borrowed, static */
    size_t len;
    char sha[41];
};

/* Parses redis://[user][:password@]host[:port][/db]. rediss:// is refused
 * (hiredis 0.14 has no TLS: put a stunnel sidecar in front). Returns ERR_OK or
 * ERR_CONFIG. */
int kv_url_parse(const char *url, struct kv_url *out, struct err *e);

/* Computes the script's SHA1 so EVALSHA can be used. Call before threads start. */
void kv_script_init(struct kv_script *s);

/* Connects, authenticates and selects the db. Returns the connection (owns;
 * free with kv_free) or NULL with e set. timeout_ms bounds connect and every
 * later command. */
struct kv *kv_connect(const struct kv_url *url, int timeout_ms, struct err *e);

/* Closes and frees; accepts NULL. */
void kv_free(struct kv *kv);

/* 1 when an I/O error made the connection unusable (free and reconnect).
 * Also notices, with one poll(2) and no round trip, an idle connection the
 * server has closed (a Redis restart), so it is replaced before use. */
int kv_broken(struct kv *kv);

/* What a Redis error reply (its text, borrowed) says of the server: 0 a
 * refusal of this command (ERR_PROTOCOL); 1 a server that cannot serve now
 * (LOADING, OOM, MISCONF, BUSY, ...: ERR_REDIS_UNAVAILABLE); 2 the same from
 * a server that is no master any more (READONLY, MASTERDOWN: a failover),
 * whose connection is dropped so that the next one reaches the new master.
 * A script's error counts by the error of the call that failed in it. */
int kv_error_kind(const char *msg);

/* Runs one command. lens may be NULL for NUL-terminated arguments. On ERR_OK
 * *reply is owned by the caller (cJSON_Delete). */
int kv_call(struct kv *kv, int argc, const char **argv, const size_t *lens, cJSON **reply,
            struct err *e);

/* Arguments of one kv_eval at most (keys and args). */
#define KV_EVAL_ARGS_MAX 4096

/* EVALSHA of a script with nkeys keys followed by args (argv holds keys then
 * args, argc in total); falls back to EVAL when Redis does not know the
 * script yet. */
int kv_eval(struct kv *kv, const struct kv_script *s, int nkeys, int argc, const char **argv,
            const size_t *lens, cJSON **reply, struct err *e);

/* One command of a pipeline (kv_pipeline, kv_eval_pipeline). */
struct kv_cmd {
    int argc;                           /* 1..KV_EVAL_ARGS_MAX (0.. in kv_eval_pipeline) */
    const char **argv;                  /* borrowed for the call */
    const size_t *lens;                 /* borrowed; NULL for NUL-terminated arguments */
};

/* Commands one pipeline sends at most: bounds the call's stack and what
 * Redis buffers for one client before we read. */
#define KV_PIPELINE_MAX 1024

/* Runs n commands (0..KV_PIPELINE_MAX) in one round trip: sends them all,
 * then reads the n replies in order. Every replies[i] is set: cmds[i]'s reply
 * (owns, cJSON_Delete), or NULL when it has none. Returns
 *   ERR_OK                 every command was answered;
 *   ERR_PROTOCOL           Redis refused some (error replies: those are NULL,
 *                          the others are there), e holds the first refusal;
 *   ERR_REDIS_UNAVAILABLE  the connection failed: the replies read before are
 *                          kept, the rest NULL; free the connection;
 *   ERR_INTERNAL           out of memory or a malformed command (argc out of
 *                          range): the replies that cost are NULL (a command
 *                          that cannot be queued is not sent, nor those after
 *                          it); or n out of range: nothing is sent, replies
 *                          is untouched.
 *
 *     struct kv_cmd c[2] = {{2, (const char *[]){"GET", "a"}, NULL},
 *                           {2, (const char *[]){"GET", "b"}, NULL}};
 *     cJSON *r[2];
 *     kv_pipeline(kv, 2, c, r, &e);   ...then cJSON_Delete(r[0]), cJSON_Delete(r[1])
 */
int kv_pipeline(struct kv *kv, int n, const struct kv_cmd *cmds, cJSON **replies,
                struct err *e);

/* kv_eval of one script n times in one round trip, as kv_pipeline: cmds[i]
 * holds call i's keys then args (argc at most KV_EVAL_ARGS_MAX), nkeys[i] of
 * them keys. The calls Redis answers NOSCRIPT (its script cache was emptied)
 * are run again afterwards, one kv_eval each; no other call is repeated. */
int kv_eval_pipeline(struct kv *kv, const struct kv_script *s, int n, const int *nkeys,
                     const struct kv_cmd *cmds, cJSON **replies, struct err *e);

/* Converts a hiredis reply (const redisReply *) to cJSON; NULL on allocation
 * failure. Shared with kv_async.c only. */
cJSON *kv_reply_to_json(const void *redis_reply);

#endif
