/* kv.c - blocking Redis client on hiredis, with replies as cJSON. */
#include "common/kv.h"

#include "common/crypto.h"
#include "common/err.h"
#include "common/resp.h"

#include <hiredis/hiredis.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kv {
    redisContext *ctx;
    int broken;
};

int kv_url_parse(const char *url, struct kv_url *out, struct err *e)
{
    const char *p, *at, *hostend, *slash;
    char *end;
    long v;

    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "rediss://", 9) == 0)
        return err_set(e, ERR_CONFIG, "REDIS_URL: rediss:// is not supported: run a TLS "
                       "sidecar (stunnel) and point REDIS_URL at its local port");
    if (strncmp(url, "redis://", 8) != 0)
        return err_set(e, ERR_CONFIG, "REDIS_URL must start with redis://");
    p = url + 8;
    slash = strchr(p, '/');
    at = strrchr(p, '@');
    if (at != NULL && (slash == NULL || at < slash)) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon != NULL) {
            size_t n = (size_t)(at - colon - 1);
            if (n >= sizeof out->password)
                return err_set(e, ERR_CONFIG, "REDIS_URL password too long");
            memcpy(out->password, colon + 1, n);
            out->password[n] = '\0';
        }
        p = at + 1;
    }
    hostend = p + strcspn(p, ":/");
    if (hostend == p || (size_t)(hostend - p) >= sizeof out->host)
        return err_set(e, ERR_CONFIG, "REDIS_URL has no valid host");
    memcpy(out->host, p, (size_t)(hostend - p));
    out->host[hostend - p] = '\0';
    p = hostend;
    if (*p == ':') {
        v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 1 || v > 65535 || (*end != '\0' && *end != '/'))
            return err_set(e, ERR_CONFIG, "REDIS_URL has an invalid port");
        out->port = (int)v;
        p = end;
    }
    if (*p == '/' && p[1] != '\0') {
        v = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != '\0' || v < 0 || v > INT_MAX)
            return err_set(e, ERR_CONFIG, "REDIS_URL has an invalid database number");
        out->db = (int)v;
    }
    return ERR_OK;
}

void kv_script_init(struct kv_script *s)
{
    crypto_sha1_hex(s->src, s->len, s->sha);
}

cJSON *kv_reply_to_json(const void *redis_reply)
{
    const redisReply *r = redis_reply;
    cJSON *arr, *obj;

    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return cJSON_CreateString(r->str ? r->str : "");
    case REDIS_REPLY_INTEGER:
        return cJSON_CreateNumber((double)r->integer);
    case REDIS_REPLY_NIL:
        return cJSON_CreateNull();
    case REDIS_REPLY_ERROR:
        obj = cJSON_CreateObject();
        if (obj != NULL && cJSON_AddStringToObject(obj, "error", r->str ? r->str : "") == NULL) {
            cJSON_Delete(obj);
            return NULL;
        }
        return obj;
    case REDIS_REPLY_ARRAY:
        arr = cJSON_CreateArray();
        for (size_t i = 0; arr != NULL && i < r->elements; i++) {
            cJSON *item = kv_reply_to_json(r->element[i]);
            if (item == NULL) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, item);
        }
        return arr;
    default:
        return cJSON_CreateNull();
    }
}

static int kv_fail(struct kv *kv, struct err *e)
{
    kv->broken = 1;
    return err_set(e, ERR_REDIS_UNAVAILABLE, "redis: %s",
                   kv->ctx->errstr[0] ? kv->ctx->errstr : "connection lost");
}

int kv_error_kind(const char *msg)
{
    static const struct {
        const char *code;
        int kind;
    } busy[] = {
        {"LOADING", 1}, {"OOM", 1}, {"MISCONF", 1}, {"BUSY", 1}, {"NOREPLICAS", 1},
        {"TRYAGAIN", 1}, {"CLUSTERDOWN", 1}, {"READONLY", 2}, {"MASTERDOWN", 2},
    };
    char code[16];
    const char *at;
    size_t n;

    if (msg == NULL)
        return 0;
    /* Redis 7 keeps a failed call's code in front of its script's error;
     * before, it followed "@user_script:<line>: -". */
    at = strstr(msg, ": -");
    if (strncmp(msg, "ERR Error running script", 24) == 0 && at != NULL)
        msg = at + 3;
    n = strcspn(msg, " ");
    if (n >= sizeof code)
        return 0;
    memcpy(code, msg, n);
    code[n] = '\0';
    for (size_t i = 0; i < sizeof busy / sizeof busy[0]; i++)
        if (strcmp(code, busy[i].code) == 0)
            return busy[i].kind;
    return 0;
}

/* Takes r. Converts an error reply into ERR_PROTOCOL, or ERR_REDIS_UNAVAILABLE
 * when it says the server cannot serve now (kv_error_kind; the connection
 * is dropped when that server is no master any more). */
static int kv_take_reply(struct kv *kv, redisReply *r, cJSON **reply, struct err *e)
{
    int rc = ERR_OK, kind;

    if (r->type == REDIS_REPLY_ERROR) {
        kind = kv_error_kind(r->str);
        if (kind == 2)
            kv->broken = 1;
        rc = err_set(e, kind ? ERR_REDIS_UNAVAILABLE : ERR_PROTOCOL, "redis: %s",
                     r->str ? r->str : "error");
    } else if (reply != NULL) {
        *reply = kv_reply_to_json(r);
        if (*reply == NULL)
            rc = err_set(e, ERR_INTERNAL, "out of memory converting a reply");
    }
    freeReplyObject(r);
    return rc;
}

int kv_call(struct kv *kv, int argc, const char **argv, const size_t *lens, cJSON **reply,
            struct err *e)
{
    char stack[RESP_STACK_BYTES];
    redisReply *r = NULL;
    size_t n;
    char *cmd;
    int ok;

    if (reply != NULL)
        *reply = NULL;
    if (kv->broken)
        return err_set(e, ERR_REDIS_UNAVAILABLE, "redis: connection lost");
    if ((cmd = resp_encode(argc, argv, lens, stack, sizeof stack, &n)) == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory encoding a Redis command");
    ok = redisAppendFormattedCommand(kv->ctx, cmd, n) == REDIS_OK &&
         redisGetReply(kv->ctx, (void **)&r) == REDIS_OK;
    if (cmd != stack)
        free(cmd);
    if (!ok || r == NULL)
        return kv_fail(kv, e);
    return kv_take_reply(kv, r, reply, e);
}

/* Arguments a pipelined command is laid out from on the stack; a longer one
 * is copied into an allocation. */
#define KV_STACK_ARGS 64

/* Queues the npre arguments pre then c's in hiredis' output buffer (the next
 * redisGetReply sends it). Returns ERR_OK; ERR_INTERNAL, nothing queued, when
 * c is malformed or memory ran out; ERR_REDIS_UNAVAILABLE when hiredis could
 * not queue it (the connection is then broken). */
static int kv_append(struct kv *kv, int npre, const char **pre, const size_t *prelens,
                     const struct kv_cmd *c, struct err *e)
{
    char stack[RESP_STACK_BYTES];
    const char *av_stack[KV_STACK_ARGS], **av = av_stack;
    size_t al_stack[KV_STACK_ARGS], *al = al_stack, len;
    int argc = npre + c->argc, rc = ERR_OK;
    char *cmd;

    /* An empty command gets no reply: every later one would be misread. */
    if (c->argc < 0 || c->argc > KV_EVAL_ARGS_MAX || argc < 1)
        return err_set(e, ERR_INTERNAL, "kv_pipeline: a command of %d arguments", c->argc);
    if (argc > KV_STACK_ARGS) {
        av = malloc((size_t)argc * sizeof *av);
        al = malloc((size_t)argc * sizeof *al);
        if (av == NULL || al == NULL) {
            free(av);
            free(al);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    for (int i = 0; i < npre; i++) {
        av[i] = pre[i];
        al[i] = prelens[i];
    }
    for (int i = 0; i < c->argc; i++) {
        av[npre + i] = c->argv[i];
        al[npre + i] = c->lens ? c->lens[i] : strlen(c->argv[i]);
    }
    if ((cmd = resp_encode(argc, av, al, stack, sizeof stack, &len)) == NULL) {
        rc = err_set(e, ERR_INTERNAL, "out of memory encoding a Redis command");
    } else {
        if (redisAppendFormattedCommand(kv->ctx, cmd, len) != REDIS_OK)
            rc = kv_fail(kv, e);
        if (cmd != stack)
            free(cmd);
    }
    if (av != av_stack) {
        free(av);
        free(al);
    }
    return rc;
}

/* Sends pre then c and reads its reply, as kv_call. */
static int kv_call_pre(struct kv *kv, int npre, const char **pre, const size_t *prelens,
                       const struct kv_cmd *c, cJSON **reply, struct err *e)
{
    redisReply *r = NULL;
    int rc;

    if (reply != NULL)
        *reply = NULL;
    if (kv->broken)
        return err_set(e, ERR_REDIS_UNAVAILABLE, "redis: connection lost");
    if ((rc = kv_append(kv, npre, pre, prelens, c, e)) != ERR_OK)
        return rc;
    if (redisGetReply(kv->ctx, (void **)&r) != REDIS_OK || r == NULL)
        return kv_fail(kv, e);
    return kv_take_reply(kv, r, reply, e);
}

int kv_eval(struct kv *kv, const struct kv_script *s, int nkeys, int argc, const char **argv,
            const size_t *lens, cJSON **reply, struct err *e)
{
    const struct kv_cmd c = {argc, argv, lens};
    char nk[16];
    const char *pre[3] = {"EVALSHA", s->sha, nk};
    size_t prelens[3] = {7, 40, 0};
    int rc;

    if (argc < 0 || argc > KV_EVAL_ARGS_MAX)
        return err_set(e, ERR_INTERNAL, "kv_eval: %d arguments (0..%d)", argc, KV_EVAL_ARGS_MAX);
    prelens[2] = (size_t)snprintf(nk, sizeof nk, "%d", nkeys);
    rc = kv_call_pre(kv, 3, pre, prelens, &c, reply, e);
    if (rc == ERR_PROTOCOL && e != NULL && strstr(e->msg, "NOSCRIPT") != NULL) {
        pre[0] = "EVAL";
        prelens[0] = 4;
        pre[1] = s->src;
        prelens[1] = s->len;
        rc = kv_call_pre(kv, 3, pre, prelens, &c, reply, e);
    }
    return rc;
}

/* kv_pipeline; kv_eval_pipeline when s is not NULL: command i then goes as
 * EVALSHA <sha> <nkeys[i]> <its argv>, and noscript[i] is set to 1 when Redis
 * answers it NOSCRIPT (noscript[i] is left alone otherwise). */
static int kv_pipeline_run(struct kv *kv, const struct kv_script *s, const int *nkeys, int n,
                           const struct kv_cmd *cmds, cJSON **replies, unsigned char *noscript,
                           struct err *e)
{
    int rc = ERR_OK, queued = 0;

    if (n < 0 || n > KV_PIPELINE_MAX)
        return err_set(e, ERR_INTERNAL, "kv_pipeline: %d commands (0..%d)", n,
                       KV_PIPELINE_MAX);
    for (int i = 0; i < n; i++)
        replies[i] = NULL;
    if (kv->broken)
        return err_set(e, ERR_REDIS_UNAVAILABLE, "redis: connection lost");
    for (; queued < n; queued++) {
        char nk[16];
        const char *pre[3] = {"EVALSHA", s != NULL ? s->sha : "", nk};
        size_t prelens[3] = {7, 40, 0};
        int a;

        if (s != NULL)
            prelens[2] = (size_t)snprintf(nk, sizeof nk, "%d", nkeys[queued]);
        a = kv_append(kv, s != NULL ? 3 : 0, pre, prelens, &cmds[queued], e);
        if (a == ERR_REDIS_UNAVAILABLE)
            return a;
        if (a != ERR_OK) {
            /* Those already queued are sent and their replies read: the
             * connection stays in step. */
            rc = a;
            break;
        }
    }
    for (int i = 0; i < queued; i++) {
        redisReply *r = NULL;

        if (redisGetReply(kv->ctx, (void **)&r) != REDIS_OK || r == NULL)
            return kv_fail(kv, e);
        if (r->type == REDIS_REPLY_ERROR) {
            int kind = kv_error_kind(r->str);

            if (s != NULL && r->str != NULL && strncmp(r->str, "NOSCRIPT", 8) == 0)
                noscript[i] = 1;
            else if (rc == ERR_OK)
                rc = err_set(e, kind ? ERR_REDIS_UNAVAILABLE : ERR_PROTOCOL, "redis: %s",
                             r->str ? r->str : "error");
            if (kind == 2)
                kv->broken = 1;
        } else if ((replies[i] = kv_reply_to_json(r)) == NULL && rc == ERR_OK) {
            rc = err_set(e, ERR_INTERNAL, "out of memory converting a reply");
        }
        freeReplyObject(r);
    }
    return rc;
}

int kv_pipeline(struct kv *kv, int n, const struct kv_cmd *cmds, cJSON **replies,
                struct err *e)
{
    return kv_pipeline_run(kv, NULL, NULL, n, cmds, replies, NULL, e);
}

int kv_eval_pipeline(struct kv *kv, const struct kv_script *s, int n, const int *nkeys,
                     const struct kv_cmd *cmds, cJSON **replies, struct err *e)
{
    unsigned char noscript[KV_PIPELINE_MAX];
    int rc;

    if (n > 0 && n <= KV_PIPELINE_MAX)
        memset(noscript, 0, (size_t)n);
    rc = kv_pipeline_run(kv, s, nkeys, n, cmds, replies, noscript, e);
    if (rc == ERR_REDIS_UNAVAILABLE || n < 0 || n > KV_PIPELINE_MAX)
        return rc;
    /* The first kv_eval loads the script (EVAL); the calls after it find it. */
    for (int i = 0; i < n; i++) {
        struct err ei;
        int r;

        if (!noscript[i])
            continue;
        err_clear(&ei);
        r = kv_eval(kv, s, nkeys[i], cmds[i].argc, cmds[i].argv, cmds[i].lens, &replies[i], &ei);
        if (r != ERR_OK && (rc == ERR_OK || r == ERR_REDIS_UNAVAILABLE)) {
            rc = r;
            if (e != NULL)
                *e = ei;
        }
        if (r == ERR_REDIS_UNAVAILABLE)
            break;
    }
    return rc;
}

struct kv *kv_connect(const struct kv_url *url, int timeout_ms, struct err *e)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    struct kv *kv = calloc(1, sizeof *kv);
    char db[16];

    if (kv == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    kv->ctx = redisConnectWithTimeout(url->host, url->port, tv);
    if (kv->ctx == NULL) {
        free(kv);
        err_set(e, ERR_REDIS_UNAVAILABLE, "redis: cannot allocate a context");
        return NULL;
    }
    if (kv->ctx->err) {
        err_set(e, ERR_REDIS_UNAVAILABLE, "redis %s:%d: %s", url->host, url->port,
                kv->ctx->errstr);
        kv_free(kv);
        return NULL;
    }
    if (redisSetTimeout(kv->ctx, tv) != REDIS_OK) {
        err_set(e, ERR_REDIS_UNAVAILABLE, "redis: cannot set timeout");
        kv_free(kv);
        return NULL;
    }
    if (url->password[0] != '\0' &&
        kv_call(kv, 2, (const char *[]){"AUTH", url->password}, NULL, NULL, e) != ERR_OK) {
        /* The message names the failure, never the password. */
        err_set(e, ERR_REDIS_UNAVAILABLE, "redis: AUTH refused");
        kv_free(kv);
        return NULL;
    }
    snprintf(db, sizeof db, "%d", url->db);
    if (url->db != 0 &&
        kv_call(kv, 2, (const char *[]){"SELECT", db}, NULL, NULL, e) != ERR_OK) {
        err_set(e, ERR_REDIS_UNAVAILABLE, "redis: SELECT %d refused", url->db);
        kv_free(kv);
        return NULL;
    }
    return kv;
}

void kv_free(struct kv *kv)
{
    if (kv == NULL)
        return;
    if (kv->ctx != NULL)
        redisFree(kv->ctx);
    free(kv);
}

int kv_broken(struct kv *kv)
{
    struct pollfd pfd = {.fd = kv->ctx->fd, .events = POLLIN};

    /* Between commands nothing is owed to us: readable means closed. */
    if (!kv->broken && poll(&pfd, 1, 0) > 0)
        kv->broken = 1;
    return kv->broken;
}
