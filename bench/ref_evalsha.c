/* ref_evalsha.c - reference (b) of `make bench`: ref_bare plus exactly one
 * EVALSHA per POST, on a hiredis connection owned by the request thread (as
 * in the gateway, gateway/conns.c). The script takes a token from a bucket
 * (the same arithmetic as schema/redis/lib/gate.lua) and XADDs the request
 * body to a stream, so each POST costs one Redis round trip carrying the
 * whole body: the floor under the gateway's POST /review, without
 * authentication, validation, budgets or the job hash.
 *
 *   REDIS_URL=redis://:PASSWORD@127.0.0.1:PORT/0 ref_evalsha [--port N]
 *
 * Env: REF_STREAM (default ref_jobs), REF_BURST / REF_RATE_PER_MIN (default
 * 600000 / 3000000: the gateway's business plan at CODEINSIGHT_RATE_LIMIT_SCALE
 * 1000000). GET and other methods get ref_bare's fixed reply.
 */
#include "bench/ref_mhd.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdint.h>

static const char script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local burst = tonumber(ARGV[1])\n"
    "local rate = tonumber(ARGV[2]) / 60000.0\n"
    "local st = redis.call('HMGET', KEYS[1], 't', 'ts')\n"
    "local tokens = tonumber(st[1]) or burst\n"
    "local ts = tonumber(st[2]) or now\n"
    "if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end\n"
    "if tokens < 1 then return {'limited', 0} end\n"
    "tokens = tokens - 1\n"
    "redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)\n"
    "local id = redis.call('XADD', KEYS[2], '*', 'body', ARGV[3])\n"
    "return {'ok', id, math.floor(tokens)}\n";

static struct {
    char host[256];
    int port;
    char password[256];
    int db;
    const char *stream;
    const char *burst;
    const char *rate;
    char sha[41];
    pthread_key_t key;
} G;

static void conn_free(void *p)
{
    if (p != NULL)
        redisFree(p);
}

static int url_parse(const char *url)
{
    const char *p, *at, *colon, *slash;
    size_t n;

    if (url == NULL || strncmp(url, "redis://", 8) != 0)
        return -1;
    p = url + 8;
    slash = strchr(p, '/');
    at = strrchr(p, '@');
    if (at != NULL && (slash == NULL || at < slash)) {
        colon = memchr(p, ':', (size_t)(at - p));
        if (colon != NULL) {
            n = (size_t)(at - colon - 1);
            if (n >= sizeof G.password)
                return -1;
            memcpy(G.password, colon + 1, n);
            G.password[n] = '\0';
        }
        p = at + 1;
    }
    n = strcspn(p, ":/");
    if (n == 0 || n >= sizeof G.host)
        return -1;
    memcpy(G.host, p, n);
    G.host[n] = '\0';
    p += n;
    G.port = 6379;
    if (*p == ':')
        G.port = (int)strtol(p + 1, (char **)&p, 10);
    if (*p == '/' && p[1] != '\0')
        G.db = (int)strtol(p + 1, NULL, 10);
    return 0;
}

static redisContext *connect_redis(void)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(G.host, G.port, tv);
    redisReply *r;

    if (c == NULL || c->err) {
        if (c != NULL)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (G.password[0] != '\0') {
        r = redisCommand(c, "AUTH %s", G.password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r != NULL)
                freeReplyObject(r);
            redisFree(c);
            return NULL;
        }
        freeReplyObject(r);
    }
    if (G.db != 0) {
        r = redisCommand(c, "SELECT %d", G.db);
        if (r != NULL)
            freeReplyObject(r);
    }
    return c;
}

/* The calling thread's connection, connected on first use. */
static redisContext *thread_conn(void)
{
    redisContext *c = pthread_getspecific(G.key);

    if (c != NULL && c->err) {
        redisFree(c);
        c = NULL;
        pthread_setspecific(G.key, NULL);
    }
    if (c == NULL && (c = connect_redis()) != NULL)
        pthread_setspecific(G.key, c);
    return c;
}

static redisReply *eval(redisContext *c, const char *body, size_t len)
{
    const char *argv[8] = {"EVALSHA", G.sha, "2", "refrl:bench", G.stream, G.burst, G.rate, body};
    size_t lens[8];
    redisReply *r;

    for (int i = 0; i < 7; i++)
        lens[i] = strlen(argv[i]);
    lens[7] = len;
    r = redisCommandArgv(c, 8, argv, lens);
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = script;
        lens[0] = 4;
        lens[1] = strlen(script);
        r = redisCommandArgv(c, 8, argv, lens);
    }
    return r;
}

static void handle(struct MHD_Connection *conn, const char *method, const char *url,
                   const char *body, size_t len)
{
    redisContext *c;
    redisReply *r;
    char out[160];

    (void)url;
    if (strcmp(method, "POST") != 0) {
        ref_respond(conn, 200, "{\"job_id\":\"00000000-0000-7000-8000-000000000000\","
                               "\"status\":\"done\"}");
        return;
    }
    if ((c = thread_conn()) == NULL) {
        ref_respond(conn, 503, "{\"code\":\"redis_unavailable\"}");
        return;
    }
    r = eval(c, body, len);
    if (r == NULL) {
        ref_respond(conn, 503, "{\"code\":\"redis_unavailable\"}");
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "ok") == 0 &&
        r->element[1]->type == REDIS_REPLY_STRING) {
        snprintf(out, sizeof out, "{\"job_id\":\"%.64s\",\"status\":\"queued\"}",
                 r->element[1]->str);
        ref_respond(conn, 202, out);
    } else if (r->type == REDIS_REPLY_ARRAY) {
        ref_respond(conn, 429, "{\"code\":\"rate_limited\"}");
    } else {
        ref_respond(conn, 500, "{\"code\":\"internal\"}");
    }
    freeReplyObject(r);
}

int main(int argc, char **argv)
{
    redisContext *c;
    redisReply *r;
    const char *v;

    if (url_parse(getenv("REDIS_URL")) != 0) {
        fprintf(stderr, "ref_evalsha: set REDIS_URL=redis://[:password@]host:port[/db]\n");
        return 2;
    }
    G.stream = (v = getenv("REF_STREAM")) && *v ? v : "ref_jobs";
    G.burst = (v = getenv("REF_BURST")) && *v ? v : "600000";
    G.rate = (v = getenv("REF_RATE_PER_MIN")) && *v ? v : "3000000";
    if (pthread_key_create(&G.key, conn_free) != 0)
        return 1;
    /* Load the script once; every thread then uses EVALSHA. */
    if ((c = connect_redis()) == NULL) {
        fprintf(stderr, "ref_evalsha: cannot connect to redis %s:%d\n", G.host, G.port);
        return 1;
    }
    r = redisCommand(c, "SCRIPT LOAD %s", script);
    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
        fprintf(stderr, "ref_evalsha: SCRIPT LOAD failed\n");
        return 1;
    }
    memcpy(G.sha, r->str, 40);
    G.sha[40] = '\0';
    freeReplyObject(r);
    redisFree(c);
    return ref_serve(argc, argv, "ref_evalsha", handle);
}
