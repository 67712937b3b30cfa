/* debug_text.c - Debug Doctor's material for the model, as text. */
#include "worker/debug_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The run's output as the model reads it: the command, the outcome, tails. */
char *debug_run_text(const cJSON *run)
{
    const cJSON *a;
    size_t cap = 3 * DEBUG_PROMPT_OUTPUT_MAX + 512, n = 0;
    char *s = malloc(cap);
    const char *err = json_str(run, "stderr_tail"), *out = json_str(run, "stdout_tail");

    if (s == NULL)
        return NULL;
    n += (size_t)snprintf(s, cap, "$");
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(run, "argv"))
        if (cJSON_IsString(a) && n < cap)
            n += (size_t)snprintf(s + n, cap - n, " %s", a->valuestring);
    if (n < cap) {
        if (cJSON_IsTrue(cJSON_GetObjectItem(run, "timed_out")))
            n += (size_t)snprintf(s + n, cap - n, "\n(killed: timed out)\n");
        else if (cJSON_IsNumber(cJSON_GetObjectItem(run, "signal")))
            n += (size_t)snprintf(s + n, cap - n, "\n(killed by signal %d)\n",
                                  (int)cJSON_GetObjectItem(run, "signal")->valuedouble);
        else
            n += (size_t)snprintf(s + n, cap - n, "\n(exit %d)\n",
                                  (int)cJSON_GetNumberValue(cJSON_GetObjectItem(run, "exit")));
    }
    /* Tails: the end is where failures are reported. */
    if (err != NULL && *err && n < cap) {
        size_t l = strlen(err);
        const char *t = l > DEBUG_PROMPT_OUTPUT_MAX ? err + l - DEBUG_PROMPT_OUTPUT_MAX : err;
        n += (size_t)snprintf(s + n, cap - n, "stderr:\n%s\n", t);
    }
    if (out != NULL && *out && n < cap) {
        size_t l = strlen(out);
        const char *t = l > DEBUG_PROMPT_OUTPUT_MAX ? out + l - DEBUG_PROMPT_OUTPUT_MAX : out;
        snprintf(s + n, cap - n, "stdout:\n%s\n", t);
    }
    return s;
}

char *debug_frames_text(const cJSON *tb)
{
    const cJSON *f;
    size_t cap = DEBUG_PROMPT_FRAMES * 300 + 1, n = 0;
    char *s = malloc(cap);
    int i = 0;

    if (s == NULL)
        return NULL;
    s[0] = '\0';
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(tb, "frames")) {
        const char *fn = json_str(f, "function");
        if (i++ >= DEBUG_PROMPT_FRAMES || n >= cap)
            break;
        n += (size_t)snprintf(s + n, cap - n, "%.200s:%d%s%.80s\n", json_str(f, "file"),
                              (int)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "line")),
                              fn ? " in " : "", fn ? fn : "");
    }
    return s;
}

char *debug_windows_text(const cJSON *tb, const struct tb_source *src, int nsrc)
{
    cJSON *w = traceback_windows(tb, src, nsrc, DEBUG_WINDOW_RADIUS);
    const cJSON *it;
    size_t cap = 1, n = 0;
    char *s;

    cJSON_ArrayForEach(it, w)
        cap += strlen(json_str(it, "code") ? json_str(it, "code") : "") + 1200;
    if ((s = malloc(cap)) == NULL) {
        cJSON_Delete(w);
        return NULL;
    }
    s[0] = '\0';
    cJSON_ArrayForEach(it, w)
        n += (size_t)snprintf(s + n, cap - n, "--- %s (around line %d)\n%s",
                              json_str(it, "file"),
                              (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "line")),
                              json_str(it, "code") ? json_str(it, "code") : "");
    cJSON_Delete(w);
    return s;
}

char *debug_files_text(const struct tb_source *src, int nsrc, size_t budget)
{
    size_t cap = budget + 2048, n = 0;
    char *s = malloc(cap);

    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (int i = 1; i < nsrc && n + 200 < cap; i++) {
        size_t room = budget > n ? budget - n : 0, len = src[i].len;
        if (room < 64)
            break;
        n += (size_t)snprintf(s + n, cap - n, "=== %s ===\n%.*s%s\n", src[i].path,
                              (int)(len < room ? len : room), src[i].text,
                              len < room ? "" : "\n[... cut]");
    }
    return s;
}
