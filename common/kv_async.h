/* kv_async.h - a non-blocking Redis connection driven by the event loop.
 *
 * Commands are pipelined in order. The connection reconnects by itself with
 * capped exponential backoff and jitter (100 ms doubling to 5 s, back to the
 * start once a connection has answered a command: one that connects and is
 * then dropped, refused or found demoted does not count); while it is down,
 * kv_async_call() fails at once with ERR_REDIS_UNAVAILABLE and callbacks of
 * commands in flight get that error. It logs each change of state once
 * (redis_connected when a connection serves, after a drop for a lost
 * master once it has answered two commands; redis_disconnected,
 * redis_connect_failed or redis_auth_failed when it stops), not each
 * attempt.
 */
#ifndef CI_KV_ASYNC_H
#define CI_KV_ASYNC_H

#include <stddef.h>

#include "common/json.h"

struct err;
struct kv_async;
struct kv_script;
struct kv_url;
struct loop;

/* reply is borrowed for the duration of the callback (NULL when e->code != ERR_OK).
 * A Redis error reply arrives as ERR_PROTOCOL with Redis' message. */
typedef void kv_async_cb(void *arg, cJSON *reply, const struct err *e);

/* Called on every (re)connection and disconnection. */
typedef void kv_async_state_cb(void *arg, int connected);

/* Starts connecting to url (borrowed, copied). name labels log lines.
 * Returns the connection (owns; kv_async_free) or NULL with e set. */
struct kv_async *kv_async_new(struct loop *loop, const struct kv_url *url, const char *name,
                              kv_async_state_cb *on_state, void *arg, struct err *e);

/* Disconnects; callbacks of commands in flight run with ERR_REDIS_UNAVAILABLE.
 * Accepts NULL. */
void kv_async_free(struct kv_async *kv);

/* 1 when connected and authenticated. */
int kv_async_connected(const struct kv_async *kv);

/* Queues a command. lens may be NULL for NUL-terminated args; args are copied.
 * cb may be NULL to ignore the reply. Returns ERR_OK, or an error without
 * calling cb. */
int kv_async_call(struct kv_async *kv, int argc, const char **argv, const size_t *lens,
                  kv_async_cb *cb, void *arg, struct err *e);

/* EVALSHA of a script (keys then args in argv), falling back to EVAL on NOSCRIPT. */
int kv_async_eval(struct kv_async *kv, const struct kv_script *s, int nkeys, int argc,
                  const char **argv, const size_t *lens, kv_async_cb *cb, void *arg,
                  struct err *e);

/* A message published on the subscribed channel (payload borrowed for the
 * call), or, with payload NULL, the subscription confirmed by Redis. */
typedef void kv_async_message_cb(void *arg, const char *payload, size_t len);

/* Subscribes to channel, now if connected and again on every reconnection:
 * cb runs on every message. The connection is then used for nothing else
 * (Redis refuses other commands on it), and holds this one subscription.
 * Messages published while it was down are lost: catch up when a
 * confirmation (payload NULL) arrives, which each (re)subscription brings.
 * A SUBSCRIBE that cannot be sent is logged (redis_subscribe_failed) and
 * sent on the next connection. Returns ERR_OK, or ERR_INTERNAL when the
 * connection has a subscription already or channel is empty or over 63
 * bytes. */
int kv_async_subscribe(struct kv_async *kv, const char *channel, kv_async_message_cb *cb,
                       void *arg, struct err *e);

#endif
