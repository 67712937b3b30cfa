/* main.c - codeinsight-gateway: load config, start, wait for a signal, stop. */
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/log.h"
#include "gateway/gateway.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr, "usage: codeinsight-gateway [--config-table]\n"
                    "Configuration comes from environment variables; see docs/configuration.md.\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct gateway gw;
    struct err e;
    sigset_t sigs;
    int sig = 0;

    if (argc == 2 && strcmp(argv[1], "--config-table") == 0) {
        config_print_markdown(stdout);
        return 0;
    }
    if (argc != 1)
        return usage();

    log_init("gateway", LOG_INFO);
    if (config_load(&cfg, CFG_GATEWAY, &e) != ERR_OK) {
        log_event(LOG_ERROR, "gateway_config_invalid", "detail", e.msg);
        return 2;
    }
    log_init("gateway", (enum log_level)cfg.log_level);
    config_log(&cfg, CFG_GATEWAY);
    if (crypto_init() != 0) {
        log_event(LOG_ERROR, "gateway_start_failed", "detail", "libsodium init failed");
        return 1;
    }
    job_scripts_init();

    memset(&gw, 0, sizeof gw);
    gw.cfg = &cfg;
    if (kv_url_parse(cfg.redis_url, &gw.kv_url, &e) != ERR_OK || gateway_conns_init(&gw) != 0) {
        log_event(LOG_ERROR, "gateway_config_invalid", "detail", e.msg);
        return 2;
    }

    /* Signals are taken synchronously by this thread; request threads,
     * created after this, inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (server_start(&gw, &e) != ERR_OK) {
        struct log_line l;
        log_begin(&l, LOG_ERROR, "gateway_start_failed");
        log_errfields(&l, &e);
        log_end(&l);
        return 1;
    }
    {
        struct log_line l;
        log_begin(&l, LOG_INFO, "gateway_started");
        log_str(&l, "bind", cfg.bind);
        log_int(&l, "port", gw.port);
        log_end(&l);
    }

    sigwait(&sigs, &sig);
    log_event(LOG_INFO, "gateway_stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_stop(&gw);
    gateway_conns_cleanup(&gw);
    log_event(LOG_INFO, "gateway_stopped", NULL, NULL);
    return 0;
}
