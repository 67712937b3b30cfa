/* live_check.c - codeinsight-worker --check-live. */
#include "worker/live_check.h"

#include "common/config.h"
#include "common/err.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* The start of /livez's answer, kept for the message. */
struct reply {
    char text[256];
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t room = sizeof r->text - 1 - r->len, take = size * n < room ? size * n : room;

    memcpy(r->text + r->len, data, take);
    r->len += take;
    r->text[r->len] = '\0';
    return size * n;
}

/* The configuration it reads. */
static const char *const live_vars[] = {"CODEINSIGHT_METRICS_PORT", "CODEINSIGHT_METRICS_BIND"};

int live_check_main(void)
{
    struct config cfg;
    struct reply body = {"", 0};
    struct err e;
    char url[sizeof cfg.metrics_bind + 32];
    long status = 0;
    CURLcode rc;
    CURL *c;

    /* Only what it uses: a probe must not fail for a setting (DATABASE_URL
     * unset in its environment, say) the worker needs and it does not. */
    if (config_load_only(&cfg, live_vars, sizeof live_vars / sizeof live_vars[0], &e) != ERR_OK) {
        fprintf(stderr, "codeinsight-worker --check-live: %s\n", e.msg);
        return 2;
    }
    if (cfg.metrics_port == 0) {
        fprintf(stderr, "codeinsight-worker --check-live: CODEINSIGHT_METRICS_PORT is 0: "
                "the worker serves no /livez\n");
        return 2;
    }
    snprintf(url, sizeof url, "http://%s:%ld/livez",
             strcmp(cfg.metrics_bind, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.metrics_bind,
             cfg.metrics_port);
    if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK || (c = curl_easy_init()) == NULL) {
        fprintf(stderr, "codeinsight-worker --check-live: cannot start libcurl\n");
        return 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)LIVE_CHECK_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        fprintf(stderr, "codeinsight-worker --check-live: %s: %s\n", url, curl_easy_strerror(rc));
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "codeinsight-worker --check-live: %s: HTTP %ld %s\n", url, status,
                body.text);
        return 1;
    }
    return 0;
}
