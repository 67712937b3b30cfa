/* debug_text.c - Debug Doctor's material for the model, as text. */
#include "worker/debug_text.h"

#include "common/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The last DEBUG_PROMPT_OUTPUT_MAX bytes of s at most, from a character's
 * start. */
static const char *output_tail(const char *s)
{
    return s + utf8_tail(s, strlen(s), DEBUG_PROMPT_OUTPUT_MAX);
}

/* The run's output as the model reads it: the command, the outcome, tails.
 * utf8_fmt returns what it wrote, so n stays below cap. */
char *debug_run_text(const cJSON *run)
{
    const cJSON *a;
    size_t cap = 3 * DEBUG_PROMPT_OUTPUT_MAX + 512, n = 0;
    char *s = malloc(cap);
    const char *err = json_str(run, "stderr_tail"), *out = json_str(run, "stdout_tail");

    if (s == NULL)
        return NULL;
    n += utf8_fmt(s, cap, "$");
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(run, "argv"))
        if (cJSON_IsString(a))
            n += utf8_fmt(s + n, cap - n, " %s", a->valuestring);
    if (cJSON_IsTrue(cJSON_GetObjectItem(run, "timed_out")))
        n += utf8_fmt(s + n, cap - n, "\n(killed: timed out)\n");
    else if (cJSON_IsNumber(cJSON_GetObjectItem(run, "signal")))
        n += utf8_fmt(s + n, cap - n, "\n(killed by signal %d)\n",
                      (int)cJSON_GetObjectItem(run, "signal")->valuedouble);
    else
        n += utf8_fmt(s + n, cap - n, "\n(exit %d)\n",
                      (int)cJSON_GetNumberValue(cJSON_GetObjectItem(run, "exit")));
    /* Tails: the end is where failures are reported. */
    if (err != NULL && *err)
        n += utf8_fmt(s + n, cap - n, "stderr:\n%s\n", output_tail(err));
    if (out != NULL && *out)
        utf8_fmt(s + n, cap - n, "stdout:\n%s\n", output_tail(out));
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
        const char *file = json_str(f, "file") ? json_str(f, "file") : "(null)";
        if (i++ >= DEBUG_PROMPT_FRAMES)
            break;
        n += utf8_fmt(s + n, cap - n, "%.*s:%d%s%.*s\n", utf8_prec(file, 200), file,
                      (int)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "line")),
                      fn ? " in " : "", utf8_prec(fn ? fn : "", 80), fn ? fn : "");
    }
    return s;
}

/* Bytes of a window's header besides its file name: "--- ", " (around
 * line ", a line number and ")\n", with room to spare. */
#define WINDOW_HEAD_MAX 64

cJSON *debug_windows(const cJSON *tb, const struct tb_source *src, int nsrc)
{
    return traceback_windows(tb, src, nsrc, DEBUG_WINDOW_RADIUS);
}

char *debug_windows_text(const cJSON *w)
{
    const cJSON *it;
    size_t cap = 1, n = 0;
    char *s;

    /* Each window's own size: a file name (redacted, it may be longer
     * than the one submitted) and its code, plus the header's words and a
     * line number. utf8_fmt counts what it wrote, so even a wrong sum
     * could only cut the text short, never write past it. */
    cJSON_ArrayForEach(it, w)
        cap += strlen(json_str(it, "file") ? json_str(it, "file") : "") +
               strlen(json_str(it, "code") ? json_str(it, "code") : "") + WINDOW_HEAD_MAX;
    if ((s = malloc(cap)) == NULL)
        return NULL;
    s[0] = '\0';
    cJSON_ArrayForEach(it, w)
        n += utf8_fmt(s + n, cap - n, "--- %s (around line %d)\n%s",
                      json_str(it, "file") ? json_str(it, "file") : "",
                      (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "line")),
                      json_str(it, "code") ? json_str(it, "code") : "");
    return s;
}

/* Appends [start, end] of window w to ranges. Returns 0, or -1 when out
 * of memory. */
static int add_window_range(cJSON *ranges, const cJSON *w)
{
    int r[2] = {(int)cJSON_GetNumberValue(cJSON_GetObjectItem(w, "start")),
                (int)cJSON_GetNumberValue(cJSON_GetObjectItem(w, "end"))};
    cJSON *rg = cJSON_CreateIntArray(r, 2);

    if (rg == NULL || !cJSON_AddItemToArray(ranges, rg)) {
        cJSON_Delete(rg);
        return -1;
    }
    return 0;
}

cJSON *debug_shown_lines(const cJSON *w, const cJSON *excerpt)
{
    cJSON *out;
    const cJSON *it;

    if (w == NULL)
        return NULL;
    if (cJSON_GetArraySize(w) == 0)
        return excerpt != NULL ? cJSON_Duplicate(excerpt, 1) : cJSON_CreateArray();
    out = cJSON_CreateArray();
    cJSON_ArrayForEach(it, w) {
        /* A neighbour's window shows that file's lines, not the main one's. */
        if (out == NULL || cJSON_GetNumberValue(cJSON_GetObjectItem(it, "source")) != 0)
            continue;
        if (add_window_range(out, it) != 0) {
            cJSON_Delete(out);
            out = NULL;
        }
    }
    return out;
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
        n += utf8_fmt(s + n, cap - n, "=== %s ===\n%.*s%s\n", src[i].path,
                      (int)utf8_cut(src[i].text, len, room), src[i].text,
                      len < room ? "" : "\n[... cut]");
    }
    return s;
}
