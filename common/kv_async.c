/* kv_async.c - hiredis async context attached to our loop by hand (hiredis'
 * event-library hooks pointed at loop_io), with reconnection. */
#include "common/kv_async.h"

#include "common/crypto.h"
#include "common/err.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/resp.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reconnection: the first attempt after a connection that served commands
 * is made within KV_BACKOFF_MIN_MS, each next one within twice the time
 * before, up to KV_BACKOFF_MAX_MS; each delay is drawn between half and all
 * of that (jitter: the processes that lost one Redis do not come back in
 * step). A connection made counts as nothing until it serves a command: a
 * demoted master takes connections and refuses every write. */
#define KV_BACKOFF_MIN_MS 100
#define KV_BACKOFF_MAX_MS 5000

/* After a connection was dropped for a lost master (READONLY, MASTERDOWN),
 * a new one is said to serve once it has answered this many commands, not
 * at its first answer: a demoted master answers reads, and one behind a
 * proxy may answer a connection's first command, before it refuses the
 * next write. Said at the first answer, each attempt would log
 * redis_connected and then redis_disconnected. */
#define KV_UP_ANSWERS_AFTER_DEMOTION 2

/* What the log last said of the connection: one line per change, not one
 * per attempt. */
enum kv_said { KV_SAID_NOTHING, KV_SAID_UP, KV_SAID_DOWN };

struct kv_async {
    struct loop *loop;
    struct kv_url url;
    char name[32];
    redisAsyncContext *ac;
    struct loop_io *io;
    int want_read, want_write;
    int connected;
    int freeing;
    struct loop_timer *retry;
    unsigned backoff_ms;                /* the next attempt's delay at most */
    int served;                         /* this connection answered a command */
    int dropping;                       /* this connection found no master (READONLY,
                                           MASTERDOWN): what it still answers does not
                                           count as served */
    char dropping_why[128];             /* that reply, for the log */
    unsigned answers;                   /* commands this connection answered */
    int demoted;                        /* a connection was dropped for a lost master
                                           since the log last said up */
    enum kv_said said;
    kv_async_state_cb *on_state;
    void *state_arg;
    kv_async_message_cb *on_message;    /* the subscription's, or NULL */
    void *message_arg;
    char channel[64];                   /* subscribed on every connection; "" none */
};

/* One pending command's callback. */
struct kv_pending {
    struct kv_async *kv;
    kv_async_cb *cb;
    void *arg;
    /* Kept for the EVAL fallback; NULL for plain commands. */
    const struct kv_script *script;
    int argc;
    char **argv;
    size_t *lens;
};

static void kv_connect_now(struct kv_async *kv);
static void kv_send_subscribe(struct kv_async *kv);

/* ---- hiredis event hooks ---- */

static void ev_update(struct kv_async *kv)
{
    if (kv->io != NULL)
        loop_io_want(kv->io, kv->want_read, kv->want_write);
}

static void ev_add_read(void *p)   { struct kv_async *kv = p; kv->want_read = 1; ev_update(kv); }
static void ev_del_read(void *p)   { struct kv_async *kv = p; kv->want_read = 0; ev_update(kv); }
static void ev_add_write(void *p)  { struct kv_async *kv = p; kv->want_write = 1; ev_update(kv); }
static void ev_del_write(void *p)  { struct kv_async *kv = p; kv->want_write = 0; ev_update(kv); }

static void ev_cleanup(void *p)
{
    struct kv_async *kv = p;

    loop_io_free(kv->io);
    kv->io = NULL;
    kv->want_read = kv->want_write = 0;
}

static void on_io(void *p, int readable, int writable)
{
    struct kv_async *kv = p;

    /* Either call may free the context (disconnect); re-check in between. */
    if (readable && kv->ac != NULL)
        redisAsyncHandleRead(kv->ac);
    if (writable && kv->ac != NULL)
        redisAsyncHandleWrite(kv->ac);
}

/* ---- connection lifecycle ---- */

static void kv_log(struct kv_async *kv, enum log_level lvl, const char *event, const char *detail)
{
    struct log_line l;

    log_begin(&l, lvl, event);
    log_str(&l, "conn", kv->name);
    log_str(&l, "host", kv->url.host);
    log_int(&l, "port", kv->url.port);
    if (detail != NULL)
        log_str(&l, "detail", detail);
    log_end(&l);
}

static void on_retry(void *p)
{
    kv_connect_now(p);
}

/* Logs that the connection serves, unless that is what the log said last. */
static void kv_say_up(struct kv_async *kv)
{
    if (kv->said == KV_SAID_UP)
        return;
    kv->said = KV_SAID_UP;
    kv->demoted = 0;
    kv_log(kv, LOG_INFO, "redis_connected", NULL);
}

/* Logs event (the connection does not serve: lost, refused, demoted),
 * unless the log said so last: the attempts that follow are silent until a
 * connection serves again. */
static void kv_say_down(struct kv_async *kv, enum log_level lvl, const char *event,
                        const char *detail)
{
    if (kv->said == KV_SAID_DOWN)
        return;
    kv->said = KV_SAID_DOWN;
    kv_log(kv, lvl, event, detail);
}

/* A command was answered (a reply or a subscription's message). */
static void kv_served(struct kv_async *kv)
{
    if (kv->dropping)
        return;     /* a read a demoted master answered before its connection closed */
    kv->served = 1;
    kv->answers++;
    if (kv->demoted && kv->answers < KV_UP_ANSWERS_AFTER_DEMOTION)
        return;     /* not yet told from a node that answers before it refuses */
    kv_say_up(kv);
}

static void kv_schedule_retry(struct kv_async *kv)
{
    uint32_t r;
    unsigned half;

    if (kv->freeing)
        return;
    if (kv->served)     /* the connection lost served: a new outage */
        kv->backoff_ms = KV_BACKOFF_MIN_MS;
    kv->served = 0;
    half = kv->backoff_ms / 2;
    crypto_random(&r, sizeof r);
    loop_timer_start(kv->retry, half + r % (half + 1), 0);
    kv->backoff_ms = kv->backoff_ms * 2 > KV_BACKOFF_MAX_MS ? KV_BACKOFF_MAX_MS
                                                            : kv->backoff_ms * 2;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct kv_async *kv = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback. */
        kv_say_down(kv, LOG_WARN, "redis_connect_failed", ac->errstr);
        kv->ac = NULL;
        kv_schedule_retry(kv);
        return;
    }
    /* Up once it serves (kv_served), not before: the backoff goes on. */
    kv->connected = 1;
    if (kv->channel[0] != '\0')
        kv_send_subscribe(kv);
    if (kv->on_state != NULL)
        kv->on_state(kv->state_arg, 1);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct kv_async *kv = ac->data;
    int was = kv->connected;

    kv->ac = NULL;
    kv->connected = 0;
    if (kv->freeing)
        return;
    if (kv->dropping)
        kv->demoted = 1;
    kv_say_down(kv, LOG_WARN, "redis_disconnected",
                kv->dropping ? kv->dropping_why : status == REDIS_OK ? "closed" : ac->errstr);
    kv_schedule_retry(kv);
    if (was && kv->on_state != NULL)
        kv->on_state(kv->state_arg, 0);
}

static void pending_free(struct kv_pending *p)
{
    if (p->argv != NULL)
        for (int i = 0; i < p->argc; i++)
            free(p->argv[i]);
    free(p->argv);
    free(p->lens);
    free(p);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata);

static void on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply *reply = r;
    struct kv_async *kv = ac->data;

    (void)privdata;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        /* Never log the password; Redis' message does not contain it. */
        kv_say_down(kv, LOG_ERROR, "redis_auth_failed", reply->str);
        redisAsyncDisconnect(ac);
    }
}

static void kv_connect_now(struct kv_async *kv)
{
    redisAsyncContext *ac;
    char db[16];

    ac = redisAsyncConnect(kv->url.host, kv->url.port);
    if (ac == NULL) {
        kv_schedule_retry(kv);
        return;
    }
    if (ac->err) {
        kv_say_down(kv, LOG_WARN, "redis_connect_failed", ac->errstr);
        redisAsyncFree(ac);
        kv_schedule_retry(kv);
        return;
    }
    kv->ac = ac;
    kv->dropping = 0;
    kv->answers = 0;
    ac->data = kv;
    kv->io = loop_io_new(kv->loop, ac->c.fd, on_io, kv);
    if (kv->io == NULL) {
        kv->ac = NULL;
        redisAsyncFree(ac);
        kv_schedule_retry(kv);
        return;
    }
    ac->ev.data = kv;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* Pipelined ahead of any command: they run first once connected. */
    if (kv->url.password[0] != '\0')
        redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", kv->url.password);
    if (kv->url.db != 0) {
        snprintf(db, sizeof db, "%d", kv->url.db);
        redisAsyncCommand(ac, on_auth, NULL, "SELECT %s", db);
    }
}

struct kv_async *kv_async_new(struct loop *loop, const struct kv_url *url, const char *name,
                              kv_async_state_cb *on_state, void *arg, struct err *e)
{
    struct kv_async *kv = calloc(1, sizeof *kv);

    if (kv == NULL) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    kv->loop = loop;
    kv->url = *url;
    snprintf(kv->name, sizeof kv->name, "%s", name);
    kv->on_state = on_state;
    kv->state_arg = arg;
    kv->backoff_ms = KV_BACKOFF_MIN_MS;
    kv->retry = loop_timer_new(loop, on_retry, kv);
    if (kv->retry == NULL) {
        free(kv);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    kv_connect_now(kv);
    return kv;
}

void kv_async_free(struct kv_async *kv)
{
    if (kv == NULL)
        return;
    kv->freeing = 1;
    if (kv->ac != NULL) {
        /* Runs every pending callback with a NULL reply, then on_disconnect. */
        redisAsyncFree(kv->ac);
        kv->ac = NULL;
    }
    loop_timer_free(kv->retry);
    /* ev_cleanup freed the watcher. */
    memset(&kv->url.password, 0, sizeof kv->url.password);
    free(kv);
}

int kv_async_connected(const struct kv_async *kv)
{
    return kv->connected;
}

/* ---- commands ---- */

/* Queues the command with on_reply(p) as its callback (REDIS_OK or REDIS_ERR). */
static int send_argv(redisAsyncContext *ac, struct kv_pending *p, int argc, const char **argv,
                     const size_t *lens)
{
    char stack[RESP_STACK_BYTES];
    size_t n;
    char *cmd = resp_encode(argc, argv, lens, stack, sizeof stack, &n);
    int rc;

    if (cmd == NULL)
        return REDIS_ERR;
    rc = redisAsyncFormattedCommand(ac, on_reply, p, cmd, n);
    if (cmd != stack)
        free(cmd);
    return rc;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct kv_pending *p = privdata;
    redisReply *reply = r;
    struct err e;
    cJSON *json = NULL;

    (void)ac;
    err_clear(&e);
    if (reply == NULL) {
        err_set(&e, ERR_REDIS_UNAVAILABLE, "redis: connection lost");
    } else if (reply->type == REDIS_REPLY_ERROR) {
        if (p->script != NULL && strncmp(reply->str, "NOSCRIPT", 8) == 0 && p->kv->ac != NULL) {
            /* Resend as EVAL with the source; the same pending record follows it. */
            free(p->argv[0]);
            free(p->argv[1]);
            p->argv[0] = strdup("EVAL");
            p->lens[0] = 4;
            p->argv[1] = malloc(p->script->len);
            if (p->argv[0] != NULL && p->argv[1] != NULL) {
                memcpy(p->argv[1], p->script->src, p->script->len);
                p->lens[1] = p->script->len;
                p->script = NULL;
                if (send_argv(p->kv->ac, p, p->argc, (const char **)p->argv, p->lens) == REDIS_OK)
                    return;
            }
            err_set(&e, ERR_REDIS_UNAVAILABLE, "redis: cannot resend script");
        } else {
            int kind = kv_error_kind(reply->str);

            err_set(&e, kind ? ERR_REDIS_UNAVAILABLE : ERR_PROTOCOL, "redis: %s", reply->str);
            /* No master any more (a failover): reconnect, to the new one,
             * backing off while this one is all the endpoint offers. */
            if (kind == 2 && p->kv->ac != NULL) {
                p->kv->served = 0;
                p->kv->dropping = 1;
                snprintf(p->kv->dropping_why, sizeof p->kv->dropping_why, "%s", reply->str);
                redisAsyncDisconnect(p->kv->ac);
            }
        }
    } else {
        kv_served(p->kv);
        json = kv_reply_to_json(reply);
        if (json == NULL)
            err_set(&e, ERR_INTERNAL, "out of memory converting a reply");
    }
    if (p->cb != NULL)
        p->cb(p->arg, json, &e);
    cJSON_Delete(json);
    pending_free(p);
}

static int kv_send(struct kv_async *kv, struct kv_pending *p, int argc, const char **argv,
                   const size_t *lens, struct err *e)
{
    if (kv->ac == NULL || !kv->connected) {
        pending_free(p);
        return err_set(e, ERR_REDIS_UNAVAILABLE, "redis (%s): not connected", kv->name);
    }
    if (send_argv(kv->ac, p, argc, argv, lens) != REDIS_OK) {
        pending_free(p);
        return err_set(e, ERR_REDIS_UNAVAILABLE, "redis (%s): cannot queue command", kv->name);
    }
    return ERR_OK;
}

int kv_async_call(struct kv_async *kv, int argc, const char **argv, const size_t *lens,
                  kv_async_cb *cb, void *arg, struct err *e)
{
    struct kv_pending *p = calloc(1, sizeof *p);

    if (p == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    p->kv = kv;
    p->cb = cb;
    p->arg = arg;
    /* hiredis formats (copies) the arguments at once, so nothing else is kept. */
    return kv_send(kv, p, argc, argv, lens, e);
}

int kv_async_eval(struct kv_async *kv, const struct kv_script *s, int nkeys, int argc,
                  const char **argv, const size_t *lens, kv_async_cb *cb, void *arg,
                  struct err *e)
{
    struct kv_pending *p = calloc(1, sizeof *p);
    char nk[16];

    if (p == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    p->kv = kv;
    p->cb = cb;
    p->arg = arg;
    p->script = s;
    p->argc = argc + 3;
    p->argv = calloc((size_t)p->argc, sizeof *p->argv);
    p->lens = calloc((size_t)p->argc, sizeof *p->lens);
    if (p->argv == NULL || p->lens == NULL) {
        pending_free(p);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    snprintf(nk, sizeof nk, "%d", nkeys);
    p->argv[0] = strdup("EVALSHA");
    p->lens[0] = 7;
    p->argv[1] = strdup(s->sha);
    p->lens[1] = 40;
    p->argv[2] = strdup(nk);
    p->lens[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        p->argv[i + 3] = malloc(n + 1);
        if (p->argv[i + 3] == NULL)
            break;
        memcpy(p->argv[i + 3], argv[i], n);
        p->argv[i + 3][n] = '\0';
        p->lens[i + 3] = n;
    }
    for (int i = 0; i < p->argc; i++) {
        if (p->argv[i] == NULL) {
            pending_free(p);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    return kv_send(kv, p, p->argc, (const char **)p->argv, p->lens, e);
}

/* ---- subscription ---- */

/* Every reply on a subscribed connection: ["subscribe", channel, count] or
 * ["message", channel, payload]; NULL when the connection goes away. */
static void on_subscribed(redisAsyncContext *ac, void *r, void *privdata)
{
    struct kv_async *kv = privdata;
    redisReply *reply = r;
    const redisReply *kind, *payload;

    (void)ac;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return;
    kv_served(kv);
    if (kv->on_message == NULL || reply->elements < 3)
        return;
    kind = reply->element[0];
    payload = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(kind->str, "subscribe") == 0)
        kv->on_message(kv->message_arg, NULL, 0);
    else if (strcmp(kind->str, "message") == 0 && payload->type == REDIS_REPLY_STRING)
        kv->on_message(kv->message_arg, payload->str, payload->len);
}

/* SUBSCRIBE on the live connection; a failure waits for the next one. */
static void kv_send_subscribe(struct kv_async *kv)
{
    if (redisAsyncCommand(kv->ac, on_subscribed, kv, "SUBSCRIBE %s", kv->channel) != REDIS_OK)
        kv_log(kv, LOG_WARN, "redis_subscribe_failed", kv->channel);
}

int kv_async_subscribe(struct kv_async *kv, const char *channel, kv_async_message_cb *cb,
                       void *arg, struct err *e)
{
    if (kv->channel[0] != '\0' || strlen(channel) == 0 || strlen(channel) >= sizeof kv->channel)
        return err_set(e, ERR_INTERNAL, "redis (%s): one subscription, to a channel of at most "
                       "%zu bytes", kv->name, sizeof kv->channel - 1);
    memcpy(kv->channel, channel, strlen(channel) + 1);
    kv->on_message = cb;
    kv->message_arg = arg;
    if (kv->ac != NULL && kv->connected)
        kv_send_subscribe(kv);
    return ERR_OK;
}
