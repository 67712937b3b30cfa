/* main.c - codeinsight-worker --pool fast|heavy (or --check-live). */
#include "common/config.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/job.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/metrics.h"
#include "common/metrics_http.h"
#include "common/metrics_table.h"
#include "common/proc_guard.h"
#include "worker/live_check.h"
#include "worker/mongo_sink.h"
#include "worker/sandbox_exec.h"
#include "worker/worker.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: codeinsight-worker --pool fast|heavy\n"
                    "       codeinsight-worker --check-live   (exit 0: GET /livez answered 200)\n"
                    "Configuration comes from environment variables; see docs/configuration.md.\n");
    return 2;
}

static void on_signal(void *arg, int signum)
{
    struct worker *w = arg;

    log_event(LOG_INFO, "worker_signal", "signal", signum == SIGINT ? "SIGINT" : "SIGTERM");
    worker_stop(w);
}

int main(int argc, char **argv)
{
    mongo_sink_forget_counters();
    if (argc > 1 && strcmp(argv[1], "--sandbox-exec") == 0)
        return sandbox_exec_main(argc, argv);
    if (argc == 2 && strcmp(argv[1], "--check-live") == 0)
        return live_check_main();
    struct config cfg;
    struct worker w;
    struct loop *loop;
    struct metrics_http *mh = NULL;
    struct err e;
    const char *pool = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pool") == 0 && i + 1 < argc)
            pool = argv[++i];
        else if (strncmp(argv[i], "--pool=", 7) == 0)
            pool = argv[i] + 7;
        else
            return usage();
    }
    if (pool == NULL || (strcmp(pool, "fast") != 0 && strcmp(pool, "heavy") != 0))
        return usage();

    log_init(strcmp(pool, "fast") == 0 ? "worker-fast" : "worker-heavy", LOG_INFO);
    if (config_load(&cfg, CFG_WORKER, &e) != ERR_OK) {
        log_event(LOG_ERROR, "worker_config_invalid", "detail", e.msg);
        return 2;
    }
    log_init(strcmp(pool, "fast") == 0 ? "worker-fast" : "worker-heavy",
             (enum log_level)cfg.log_level);
    config_log(&cfg, CFG_WORKER);
    /* The linters run as this user: they must not read our environment. */
    if (proc_guard_secrets() != 0)
        log_event(LOG_WARN, "worker_not_guarded", "detail", "PR_SET_DUMPABLE failed");
    if (strcmp(pool, "heavy") == 0)
        cfg.llm_timeout_ms = cfg.heavy_llm_timeout_ms;
    if (crypto_init() != 0)
        return 1;
    job_scripts_init();
    signal(SIGPIPE, SIG_IGN);
    if (metrics_table_init(CFG_WORKER, &e) != ERR_OK ||
        (cfg.metrics_port != 0 &&
         (mh = metrics_http_start(cfg.metrics_bind, cfg.metrics_port, WORKER_STALL_MS,
                                  &e)) == NULL)) {
        log_event(LOG_ERROR, "worker_start_failed", "detail", e.msg);
        metrics_cleanup();
        return 1;
    }
    if (mh != NULL) {
        struct log_line l;
        log_begin(&l, LOG_INFO, "metrics_listening");
        log_str(&l, "bind", cfg.metrics_bind);
        log_int(&l, "port", metrics_http_port(mh));
        log_end(&l);
    }

    loop = loop_new(&e);
    if (loop == NULL || worker_start(&w, loop, &cfg, pool, &e) != ERR_OK) {
        /* A bad value found past the table (REDIS_URL's parts, the stress
         * hosts, the prices, the prompts) is a configuration error too: the
         * same event and exit status as the table's. */
        int config = loop != NULL && e.code == ERR_CONFIG;
        log_event(LOG_ERROR, config ? "worker_config_invalid" : "worker_start_failed", "detail",
                  e.msg);
        loop_free(loop);
        metrics_http_stop(mh);
        metrics_cleanup();
        return config ? 2 : 1;
    }
    w.health = mh;
    if (loop_on_signal(loop, SIGTERM, on_signal, &w) != 0 ||
        loop_on_signal(loop, SIGINT, on_signal, &w) != 0) {
        log_event(LOG_ERROR, "worker_start_failed", "detail", "cannot watch signals");
        worker_cleanup(&w);
        loop_free(loop);
        metrics_http_stop(mh);
        metrics_cleanup();
        return 1;
    }
    loop_run(loop);
    if (worker_cleanup(&w) != 0)
        _exit(0);   /* the history writer still runs: no exit handlers under it */
    loop_free(loop);
    /* The listener thread reads the registry: stop it before freeing that. */
    metrics_http_stop(mh);
    metrics_cleanup();
    return 0;
}
