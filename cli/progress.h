/* progress.h - live progress of the jobs, on stderr.
 *
 * Two modes:
 *  - live (stderr is a terminal, NO_COLOR unset, TERM not "dumb", and the
 *    lines fit the window): one line per job, redrawn in place with ANSI
 *    cursor movement, state coloured: "path  running  1.2s";
 *  - plain (otherwise): one line per state change, no escape codes:
 *    "path: running (1.2s)".
 * Paths are made safe for a terminal (termtext.h): one from a diff or from
 * the service cannot bring escape codes of its own.
 *
 *     struct progress p;
 *     progress_init(&p, stderr, PROGRESS_LIVE);
 *     progress_draw(&p, &js, clock_mono_ms());  // after every change or tick
 *     progress_finish(&p, &js, clock_mono_ms());
 *     progress_cleanup(&p);
 */
#ifndef CI_CLI_PROGRESS_H
#define CI_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/jobset.h"

/* Widest path column in live mode, characters (longer paths keep their end). */
#define PROGRESS_LABEL_MAX 60
/* Longest label made safe for the terminal, bytes including the NUL (a
 * longer one is cut: live mode shows at most its last PROGRESS_LABEL_MAX). */
#define PROGRESS_CLEAN_MAX 4096

enum progress_mode { PROGRESS_OFF = 0, PROGRESS_PLAIN, PROGRESS_LIVE };

struct progress {
    FILE *out;                  /* borrowed */
    enum progress_mode mode;
    size_t drawn;               /* live: lines drawn last time (cursor goes up this many) */
    enum cli_job_state *seen;   /* owns; plain: last state printed per job */
    size_t nseen;
};

/* The mode for a stream: live when is_tty and colour is allowed (no_color
 * NULL or "", term not "dumb") and rows (0: unknown) leaves room for njobs
 * lines; plain otherwise; off when quiet. */
enum progress_mode progress_pick(int quiet, int is_tty, const char *no_color, const char *term,
                                 int rows, size_t njobs);

void progress_init(struct progress *p, FILE *out, enum progress_mode mode);
void progress_cleanup(struct progress *p);

/* Shows the jobs' states as of now_ms (monotonic). Returns 0, -1 when out
 * of memory (nothing drawn). */
int progress_draw(struct progress *p, const struct jobset *js, int64_t now_ms);

/* Final draw; live mode leaves the lines on screen. Errors are not
 * shown here: the command reports them. */
void progress_finish(struct progress *p, const struct jobset *js, int64_t now_ms);

/* One job's live line, without colour or newline, into buf (cap bytes):
 * label made safe for a terminal (termtext.h), padded to width (cut from
 * the left, at a character boundary, with "..." when longer), two
 * spaces, the state padded to 7, two spaces, seconds with one decimal.
 * Returns buf. */
char *progress_line(char *buf, size_t cap, const char *label, int width,
                    enum cli_job_state state, double seconds);

#endif
