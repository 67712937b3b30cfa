/* progress.c - live or plain progress lines on stderr. */
#include "cli/progress.h"

#include "cli/termtext.h"

#include <stdlib.h>
#include <string.h>

enum progress_mode progress_pick(int quiet, int is_tty, const char *no_color, const char *term,
                                 int rows, size_t njobs)
{
    if (quiet)
        return PROGRESS_OFF;
    if (!is_tty || (no_color != NULL && no_color[0] != '\0') ||
        (term != NULL && strcmp(term, "dumb") == 0))
        return PROGRESS_PLAIN;
    /* Redrawing in place needs every line on screen (and one row spare). */
    if (rows > 0 && njobs + 1 > (size_t)rows)
        return PROGRESS_PLAIN;
    return PROGRESS_LIVE;
}

void progress_init(struct progress *p, FILE *out, enum progress_mode mode)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->mode = mode;
}

void progress_cleanup(struct progress *p)
{
    free(p->seen);
    p->seen = NULL;
    p->nseen = 0;
}

static double elapsed_s(const struct cli_job *j, int64_t now_ms)
{
    int64_t end = j->finished_ms ? j->finished_ms : now_ms;

    return j->started_ms && end > j->started_ms ? (double)(end - j->started_ms) / 1000.0 : 0.0;
}

char *progress_line(char *buf, size_t cap, const char *label, int width,
                    enum cli_job_state state, double seconds)
{
    char clean[PROGRESS_CLEAN_MAX];
    size_t n, from;

    label = termtext_clean(clean, sizeof clean, label, TERMTEXT_FLAT);
    n = strlen(label);
    if (width > 3 && n > (size_t)width) {
        /* Keep the end, starting on a whole character. */
        from = n - (size_t)(width - 3);
        while (from < n && ((unsigned char)label[from] & 0xc0) == 0x80)
            from++;
        snprintf(buf, cap, "...%s  %-7s  %.1fs", label + from, job_state_name(state), seconds);
    } else
        snprintf(buf, cap, "%-*s  %-7s  %.1fs", width, label, job_state_name(state), seconds);
    return buf;
}

static const char *state_colour(enum cli_job_state s)
{
    switch (s) {
    case JOB_RUNNING: return "\x1b[33m";    /* yellow */
    case JOB_DONE:    return "\x1b[32m";    /* green */
    case JOB_FAILED:
    case JOB_ERROR:   return "\x1b[31m";    /* red */
    default:          return "\x1b[2m";     /* dim */
    }
}

static void draw_live(struct progress *p, const struct jobset *js, int64_t now_ms)
{
    char line[PROGRESS_LABEL_MAX + 64];
    size_t widest = 0;
    int width;

    /* In size_t, capped before it becomes an int: a label may be longer
     * than INT_MAX. */
    for (size_t i = 0; i < js->n; i++) {
        size_t n = strlen(js->jobs[i].label);
        if (n > widest)
            widest = n;
    }
    width = widest > PROGRESS_LABEL_MAX ? PROGRESS_LABEL_MAX : (int)widest;
    if (p->drawn > 0)
        fprintf(p->out, "\x1b[%zuA", p->drawn);
    for (size_t i = 0; i < js->n; i++) {
        const struct cli_job *j = &js->jobs[i];
        size_t label_end;

        progress_line(line, sizeof line, j->label, width, j->state, elapsed_s(j, now_ms));
        /* Colour the state word only: it starts after the padded label. */
        label_end = (size_t)width + 2 < strlen(line) ? (size_t)width + 2 : strlen(line);
        fprintf(p->out, "\r\x1b[2K%.*s%s%s\x1b[0m\n", (int)label_end, line,
                state_colour(j->state), line + label_end);
    }
    p->drawn = js->n;
    fflush(p->out);
}

static int draw_plain(struct progress *p, const struct jobset *js, int64_t now_ms)
{
    if (p->nseen < js->n) {
        enum cli_job_state *grown = realloc(p->seen, js->n * sizeof *grown);

        if (grown == NULL)
            return -1;
        for (size_t i = p->nseen; i < js->n; i++)
            grown[i] = JOB_PENDING;
        p->seen = grown;
        p->nseen = js->n;
    }
    for (size_t i = 0; i < js->n; i++) {
        const struct cli_job *j = &js->jobs[i];

        if (j->state == p->seen[i])
            continue;
        p->seen[i] = j->state;
        termtext_put(p->out, j->label, TERMTEXT_FLAT);
        fprintf(p->out, ": %s (%.1fs)\n", job_state_name(j->state), elapsed_s(j, now_ms));
    }
    fflush(p->out);
    return 0;
}

int progress_draw(struct progress *p, const struct jobset *js, int64_t now_ms)
{
    if (p->mode == PROGRESS_LIVE)
        draw_live(p, js, now_ms);
    else if (p->mode == PROGRESS_PLAIN)
        return draw_plain(p, js, now_ms);
    return 0;
}

void progress_finish(struct progress *p, const struct jobset *js, int64_t now_ms)
{
    progress_draw(p, js, now_ms);
}
