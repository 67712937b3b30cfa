/* main.c - codeinsight-gateway: load config, start, wait for a signal, stop. */
#include "common/cidr.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/jwks.h"
#include "common/log.h"
#include "common/target_policy.h"
#include "common/metrics.h"
#include "common/metrics_table.h"
#include "gateway/events.h"
#include "gateway/ident_cache.h"
#include "gateway/gateway.h"
#include "gateway/subs.h"
#include "gateway/view_cache.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Token verifiers from the configuration; a dummy password hash so that
 * logins for unknown emails cost what real ones cost. */
static int auth_setup(struct gateway *gw, struct err *e)
{
    const struct config *cfg = gw->cfg;
    static const char dummy[] = "not a password: equalises login timing";

    gw->own_jwt.hs_secret = (const unsigned char *)cfg->jwt_secret;
    gw->own_jwt.hs_secret_len = strlen(cfg->jwt_secret);
    gw->own_jwt.issuer = cfg->jwt_issuer;
    gw->own_jwt.leeway_s = 60;
    gw->own_jwt.max_lifetime_s = 3600;
    gw->own_jwt.require_exp = 1;

    if (cfg->supabase_jwks_url[0] != '\0') {
        struct err fetch_e;
        gw->jwks = jwks_new(cfg->supabase_jwks_url, JWKS_MIN_REFRESH_S, JWKS_MAX_AGE_S);
        if (gw->jwks == NULL)
            return err_set(e, ERR_CONFIG, "SUPABASE_JWKS_URL: cannot set up the key cache");
        /* Warm the cache (and libcurl) while single-threaded; a failure is
         * logged and retried on the first unknown kid. */
        jwks_refresh(gw->jwks, &fetch_e);
    }
    gw->ext_enabled = cfg->supabase_jwt_secret[0] != '\0' || gw->jwks != NULL;
    gw->ext_jwt.hs_secret =
        cfg->supabase_jwt_secret[0] ? (const unsigned char *)cfg->supabase_jwt_secret : NULL;
    gw->ext_jwt.hs_secret_len = strlen(cfg->supabase_jwt_secret);
    gw->ext_jwt.jwks = gw->jwks;
    gw->ext_jwt.issuer = cfg->supabase_issuer;
    gw->ext_jwt.audience = cfg->supabase_audience;
    gw->ext_jwt.leeway_s = 60;
    gw->ext_jwt.require_exp = 1;

    if (target_policy_new(cfg->stress_allowed_hosts, &gw->stress_policy, e) != ERR_OK)
        return ERR_CONFIG;
    if (cidr_list_parse(cfg->trusted_proxies, "CODEINSIGHT_TRUSTED_PROXIES", &gw->trusted, e) !=
        ERR_OK)
        return ERR_CONFIG;
    if (crypto_password_hash(dummy, sizeof dummy - 1, gw->dummy_pwhash) != 0)
        return err_set(e, ERR_INTERNAL, "cannot hash (out of memory)");
    return ERR_OK;
}

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
    if (auth_setup(&gw, &e) != ERR_OK) {
        log_event(LOG_ERROR, "gateway_config_invalid", "detail", e.msg);
        jwks_free(gw.jwks);
        target_policy_free(gw.stress_policy);
        return 2;
    }
    if (metrics_table_init(CFG_GATEWAY, &e) != ERR_OK) {
        log_event(LOG_ERROR, "gateway_start_failed", "detail", e.msg);
        return 1;
    }

    /* Signals are taken synchronously by this thread; request threads,
     * created after this, inherit the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Finished jobs' views, kept for the clients polling them. */
    gw.views = view_cache_new((size_t)cfg.view_cache_mb * 1024 * 1024);
    if (cfg.view_cache_mb > 0 && gw.views == NULL) {
        log_event(LOG_ERROR, "gateway_start_failed", "detail", "out of memory");
        return 1;
    }

    /* Its own copy of identities, never older than the Redis cache's. */
    {
        long ms = cfg.identity_cache_ms;
        if (ms > cfg.auth_cache_ttl_s * 1000)
            ms = cfg.auth_cache_ttl_s * 1000;
        gw.idents = idc_new(ms);
        if (ms > 0 && gw.idents == NULL) {
            log_event(LOG_ERROR, "gateway_start_failed", "detail", "out of memory");
            return 1;
        }
    }

    /* Event streams: the registry, then the thread feeding it. */
    gw.subs = subs_new(cfg.sse_max_subscribers, cfg.sse_max_per_user, server_suspend,
                       server_resume);
    if (gw.subs == NULL ||
        (gw.events = events_start(&gw.kv_url, gw.subs, gw.idents, cfg.sse_heartbeat_s,
                                  cfg.sse_max_subscribers, &e)) == NULL) {
        log_event(LOG_ERROR, "gateway_start_failed", "detail",
                  gw.subs == NULL ? "out of memory" : e.msg);
        return 1;
    }
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
    if (server_stop(&gw) != 0) {
        /* Threads stuck in PostgreSQL past every bound (logged) may still
         * use what the rest would free, and exit() would run the libraries'
         * clean-up under them: leave at once instead. */
        log_event(LOG_WARN, "gateway_stopped", "detail", "threads left in PostgreSQL");
        _exit(0);
    }
    events_stop(gw.events);
    /* Every stream left with its connection when the server stopped. */
    subs_free(gw.subs);
    gateway_conns_cleanup(&gw);
    jwks_free(gw.jwks);
    target_policy_free(gw.stress_policy);
    view_cache_free(gw.views);
    idc_free(gw.idents);
    metrics_cleanup();
    log_event(LOG_INFO, "gateway_stopped", NULL, NULL);
    return 0;
}
