/* ref_mhd.h - the libmicrohttpd scaffolding shared by the two reference
 * servers of `make bench` (ref_bare.c, ref_evalsha.c). Header-only on
 * purpose: each reference is one translation unit.
 *
 * Same daemon setup as the gateway (gateway/server.c): one epoll listener
 * with a thread pool of one thread per core, the same connection limit,
 * timeout and backlog. Request bodies are buffered in full before the
 * handler runs, like the gateway does. */
#ifndef BENCH_REF_MHD_H
#define BENCH_REF_MHD_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REF_CONNECTION_LIMIT 4096
#define REF_BODY_MAX (1024 * 1024)

struct ref_req {
    char *body;
    size_t len, cap;
    int too_large;
};

/* The per-reference handler: answers the request (method, url, full body). */
typedef void (*ref_handler)(struct MHD_Connection *conn, const char *method, const char *url,
                            const char *body, size_t len);

static ref_handler ref_handle;

static void ref_respond(struct MHD_Connection *conn, unsigned status, const char *json)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);

    if (r == NULL)
        return;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
}

static void ref_append(struct ref_req *q, const char *data, size_t n)
{
    if (q->too_large)
        return;
    if (q->len + n > REF_BODY_MAX) {
        q->too_large = 1;
        return;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 16384;
        char *nb;
        while (cap < q->len + n + 1)
            cap *= 2;
        nb = realloc(q->body, cap);
        if (nb == NULL) {
            q->too_large = 1;
            return;
        }
        q->body = nb;
        q->cap = cap;
    }
    memcpy(q->body + q->len, data, n);
    q->len += n;
    q->body[q->len] = '\0';
}

static enum MHD_Result ref_on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    struct ref_req *q = *con_cls;

    (void)cls;
    (void)version;
    if (q == NULL) {
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        ref_append(q, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q->too_large) {
        ref_respond(conn, 413, "{\"code\":\"body_too_large\"}");
        return MHD_YES;
    }
    ref_handle(conn, method, url, q->body ? q->body : "", q->len);
    return MHD_YES;
}

static void ref_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    struct ref_req *q = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (q != NULL) {
        free(q->body);
        free(q);
        *con_cls = NULL;
    }
}

static volatile sig_atomic_t ref_stop;

static void ref_on_signal(int sig)
{
    (void)sig;
    ref_stop = 1;
}

/* Parses argv (--port N), starts the daemon, prints one ready line
 * {"event":"ref_ready","port":N} and serves until SIGTERM/SIGINT. */
static int ref_serve(int argc, char **argv, const char *name, ref_handler handler)
{
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned port = 0;
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *d;
    struct sigaction sa;
    struct sockaddr_in addr;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--port N]\n", name);
            return 2;
        }
    }
    if (threads < 1)
        threads = 2;
    ref_handle = handler;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(0x7f000001); /* 127.0.0.1: loopback only */

    d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG,
                         (uint16_t)port, NULL, NULL, ref_on_access, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int)REF_CONNECTION_LIMIT,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                         MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
                         MHD_OPTION_NOTIFY_COMPLETED, ref_on_completed, NULL,
                         MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "%s: cannot listen on 127.0.0.1:%u\n", name, port);
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("{\"event\":\"ref_ready\",\"name\":\"%s\",\"port\":%u,\"threads\":%ld}\n", name,
           info ? info->port : port, threads);
    fflush(stdout);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ref_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!ref_stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}

#endif
