/* commands.h - the codeinsight commands; each returns an exit status
 * (enum cli_exit) and has said why on stderr when it is not 0.
 */
#ifndef CI_CLI_COMMANDS_H
#define CI_CLI_COMMANDS_H

#include "cli/args.h"
#include "cli/settings.h"
#include "cli/jobset.h"

struct api;

/* review FILE...: builds the jobs, runs them, prints the results. */
int cmd_review(const struct cli_args *a, struct api *api);

/* job ID: follows one job. */
int cmd_job(const struct cli_args *a, struct api *api);

/* cancel ID...: asks the service to cancel each job; prints "ID<TAB>cancelled"
 * (or "cancelling": its worker stops it) per job. Returns 0 when every one
 * was, CLI_EXIT_USAGE (nothing sent) when an ID is not a job id, else
 * CLI_EXIT_SERVICE having said which on stderr. */
int cmd_cancel(const struct cli_args *a, struct api *api);

/* whoami / usage. */
int cmd_whoami(const struct cli_args *a, struct api *api);
int cmd_usage(const struct cli_args *a, struct api *api);

/* login: asks, checks, writes the config file at path. current holds what
 * is configured now (its URL is the default answer). */
int cmd_login(const struct cli_args *a, const struct cli_config *current, const char *path);

/* Runs js with live or plain progress on stderr (engine.h), printing
 * nothing else. Returns 0, CLI_EXIT_SERVICE having said why, or
 * CLI_EXIT_INTERRUPTED (Ctrl-C) having listed the jobs not finished, with
 * their ids. */
int commands_follow(const struct cli_args *a, struct api *api, struct jobset *js, int wait);

/* Runs js with live or plain progress on stderr, then prints the results
 * (output.h). Returns the exit status. Shared by review and job. */
int commands_run_jobs(const struct cli_args *a, struct api *api, struct jobset *js, int wait);

/* Adds one review job per file of a --diff (diffsel.c): the files named in
 * a->files with their sections, or, without files, every file the diff
 * adds or modifies, read with source_read_tree: a file the diff marks as a
 * symbolic link, or whose path is absolute, holds "..", or reaches a link,
 * FIFO or device in the working tree, is skipped with a note on stderr.
 * Returns 0, or CLI_EXIT_USAGE having said why. */
int diffsel_add_jobs(const struct cli_args *a, struct jobset *js);

/* How the file of a review job was chosen, which says what a file that
 * cannot be read comes to. */
enum add_from {
    ADD_NAMED,      /* named by the user: read with source_read; a failure
                     * is a usage error */
    ADD_FROM_DIFF,  /* chosen by a diff: read with source_read_tree; a
                     * refused one is skipped with a note, a failure to
                     * read is a usage error */
    ADD_FROM_DIR,   /* found under a directory named (walk.h): read with
                     * source_read_walked; any failure (too large, not
                     * text, a link now) is skipped with a note */
};

/* Adds the review job for one local file: reads it as `from` says, its wire
 * path (source_wire_path, or source_wire_path_in dir for ADD_FROM_DIR), the
 * body with diff[0..diff_len) (may be NULL). Returns 0 (a file skipped with
 * a note included), or CLI_EXIT_USAGE having said why on stderr. */
int commands_add_review(const struct cli_args *a, struct jobset *js, const char *path,
                        const char *dir, const char *diff, size_t diff_len,
                        enum add_from from);

#endif
