/* cmd_review.c - codeinsight review: files in, jobs run, findings out. */
#include "cli/commands.h"

#include "cli/api.h"
#include "cli/engine.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/source.h"
#include "cli/termtext.h"
#include "cli/walk.h"
#include "common/clock.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int terminal_rows(void)
{
    struct winsize ws;

    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

/* What cancelling j after the interrupt came to, for its line. */
static void put_cancel(const struct cli_job *j)
{
    switch (j->cancel) {
    case CANCEL_CANCELLED:
        fputs("  cancelled", stderr);
        break;
    case CANCEL_CANCELLING:
        fputs("  cancelling (its worker stops it)", stderr);
        break;
    case CANCEL_FINISHED:
        fputs("  finished before it could be cancelled", stderr);
        break;
    case CANCEL_REFUSED:
        fputs("  not cancelled: ", stderr);
        termtext_put(stderr, j->cancel_error, TERMTEXT_FLAT);
        break;
    case CANCEL_NONE:
        fputs("  not cancelled: no answer in time", stderr);
        break;
    }
}

/* A job the interrupt left running, one `codeinsight cancel` would stop:
 * accepted, not finished, and not cancelled (or being) by the CLI. */
static int left_running(const struct cli_job *j, int cancelled)
{
    return j->id[0] != '\0' && !job_state_final(j->state) &&
           (!cancelled || j->cancel == CANCEL_NONE || j->cancel == CANCEL_REFUSED);
}

/* After Ctrl-C or SIGTERM: the jobs not finished, by id, so that they can
 * be followed later, and either what cancelling each came to (cancelled:
 * --cancel-on-interrupt) or the command that cancels them all; those never
 * accepted by path. */
static void report_pending(const struct jobset *js, int cancelled)
{
    int said = 0, left = 0;

    for (size_t i = 0; i < js->n; i++) {
        const struct cli_job *j = &js->jobs[i];

        if (job_state_final(j->state) || j->id[0] == '\0')
            continue;
        if (!said++)
            fputs(cancelled ? "codeinsight: interrupted; the jobs not finished were cancelled "
                              "(follow one with `codeinsight job ID`):\n"
                            : "codeinsight: interrupted; not finished (follow one with "
                              "`codeinsight job ID`, stop them with `codeinsight cancel "
                              "ID...`):\n",
                  stderr);
        fprintf(stderr, "  %s  ", j->id);
        termtext_put(stderr, j->label, TERMTEXT_FLAT);
        if (cancelled)
            put_cancel(j);
        fputc('\n', stderr);
        left += left_running(j, cancelled);
    }
    if (!said) {
        fputs("codeinsight: interrupted\n", stderr);
    } else if (left > 0) {
        fputs("codeinsight: to cancel them: codeinsight cancel", stderr);
        for (size_t i = 0; i < js->n; i++)
            if (left_running(&js->jobs[i], cancelled))
                fprintf(stderr, " %s", js->jobs[i].id);
        fputc('\n', stderr);
    }
    for (size_t i = 0; i < js->n; i++) {
        if (js->jobs[i].id[0] == '\0' && !job_state_final(js->jobs[i].state)) {
            fputs("codeinsight: not submitted: ", stderr);
            termtext_put(stderr, js->jobs[i].label, TERMTEXT_FLAT);
            fputc('\n', stderr);
        }
    }
}

int commands_follow(const struct cli_args *a, struct api *api, struct jobset *js, int wait)
{
    struct engine_opts o;
    struct progress p;
    char msg[160];
    int rc;

    progress_init(&p, stderr, progress_pick(a->quiet, isatty(STDERR_FILENO),
                                            getenv("NO_COLOR"), getenv("TERM"),
                                            terminal_rows(), js->n));
    memset(&o, 0, sizeof o);
    o.wait = wait;
    o.format = a->format == FMT_SARIF ? "sarif" : a->format == FMT_RDJSON ? "rdjson" : NULL;
    o.timeout_ms = a->timeout_s * 1000;
    o.progress = &p;
    o.cancel_on_interrupt = a->cancel_on_interrupt;
    o.no_cache = a->no_cache;
    rc = engine_run(api, js, &o, msg, sizeof msg);
    progress_cleanup(&p);
    if (rc > 0) {
        report_pending(js, a->cancel_on_interrupt);
        return rc == SIGTERM ? CLI_EXIT_TERMINATED : CLI_EXIT_INTERRUPTED;
    }
    if (rc != 0) {
        fprintf(stderr, "codeinsight: %s\n", msg);
        return CLI_EXIT_SERVICE;
    }
    return 0;
}

int commands_run_jobs(const struct cli_args *a, struct api *api, struct jobset *js, int wait)
{
    int rc = commands_follow(a, api, js, wait);

    return rc != 0 ? rc : output_results(stdout, stderr, js, a);
}

int commands_add_review(const struct cli_args *a, struct jobset *js, const char *path,
                        const char *dir, const char *diff, size_t diff_len,
                        enum add_from from)
{
    char wire[SOURCE_PATH_MAX], msg[512];
    struct source_file f;
    struct source_review r;
    char *body;
    int rc = 0;

    if ((dir != NULL ? source_wire_path_in(path, dir, wire, sizeof wire, msg, sizeof msg)
                     : source_wire_path(path, wire, sizeof wire, msg, sizeof msg)) != 0 ||
        (rc = from == ADD_FROM_DIFF ? source_read_tree(path, SOURCE_FILE_MAX, &f, msg, sizeof msg)
              : from == ADD_FROM_DIR
                  ? source_read_walked(dir, path, SOURCE_FILE_MAX, &f, msg, sizeof msg)
                  : source_read(path, SOURCE_FILE_MAX, &f, msg, sizeof msg)) != 0) {
        /* path may be a diff's or a directory's: no escape codes from it. */
        if (rc == SOURCE_REFUSED) {         /* msg does not name path */
            fputs("codeinsight: note: ", stderr);
            termtext_put(stderr, path, TERMTEXT_FLAT);
            fprintf(stderr, ": %s, skipped\n", msg);
            return 0;
        }
        if (from == ADD_FROM_DIR) {
            fputs("codeinsight: note: ", stderr);
            termtext_put(stderr, msg, TERMTEXT_FLAT);
            fputs(", skipped\n", stderr);
            return 0;
        }
        termtext_say(stderr, msg);
        return CLI_EXIT_USAGE;
    }
    memset(&r, 0, sizeof r);
    r.path = wire;
    r.file = &f;
    r.language = a->language;
    r.diff = diff;
    r.diff_len = diff_len;
    r.filter = a->filter;
    body = source_review_body(&r);
    source_file_free(&f);
    if (body == NULL || jobset_add(js, path, body) == NULL) {
        fprintf(stderr, "codeinsight: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* --type debug: one job; the first file fails, the others are context. */
static int add_debug(const struct cli_args *a, struct jobset *js)
{
    struct source_file main_file = {0}, log = {0}, nb[SOURCE_NEIGHBOURS_MAX];
    char wire[SOURCE_NEIGHBOURS_MAX + 1][SOURCE_PATH_MAX], msg[512];
    const char *npaths[SOURCE_NEIGHBOURS_MAX];
    struct source_run run = {a->runner, a->run_args, a->nrun_args};
    size_t n = a->nfiles > 0 ? a->nfiles - 1 : 0, got = 0;
    int rc = CLI_EXIT_USAGE;
    char *body;

    memset(nb, 0, sizeof nb);
    if (a->nfiles == 0) {
        fprintf(stderr, "codeinsight: --type debug needs the failing FILE\n");
        return CLI_EXIT_USAGE;
    }
    if (n > SOURCE_NEIGHBOURS_MAX) {
        fprintf(stderr, "codeinsight: --type debug takes at most %d context files\n",
                SOURCE_NEIGHBOURS_MAX);
        return CLI_EXIT_USAGE;
    }
    if (source_wire_path(a->files[0], wire[0], sizeof wire[0], msg, sizeof msg) != 0 ||
        source_read(a->files[0], SOURCE_FILE_MAX, &main_file, msg, sizeof msg) != 0 ||
        (a->error_log != NULL &&
         source_read(a->error_log, SOURCE_ERROR_LOG_MAX, &log, msg, sizeof msg) != 0))
        goto out;
    for (got = 0; got < n; got++) {
        if (source_wire_path(a->files[got + 1], wire[got + 1], sizeof wire[0], msg,
                             sizeof msg) != 0 ||
            source_read(a->files[got + 1], SOURCE_FILE_MAX, &nb[got], msg, sizeof msg) != 0)
            goto out;
        npaths[got] = wire[got + 1];
    }
    body = source_debug_body(wire[0], &main_file, npaths, nb, n,
                             a->error_log != NULL ? &log : NULL, &run, a->language);
    if (body == NULL || jobset_add(js, a->files[0], body) == NULL) {
        snprintf(msg, sizeof msg, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        termtext_say(stderr, msg);
    source_file_free(&main_file);
    source_file_free(&log);
    for (size_t i = 0; i < got && i < SOURCE_NEIGHBOURS_MAX; i++)
        source_file_free(&nb[i]);
    return rc;
}

/* Appends local's wire path to the tree (tree[0..*at), SOURCE_FILE_TREE_MAX
 * bytes at most). Returns 0, or CLI_EXIT_USAGE having said why. */
static int tree_add(const char *local, char *tree, size_t *at)
{
    char wire[SOURCE_PATH_MAX], msg[512];
    int w;

    if (source_wire_path(local, wire, sizeof wire, msg, sizeof msg) != 0) {
        termtext_say(stderr, msg);
        return CLI_EXIT_USAGE;
    }
    w = snprintf(tree + *at, SOURCE_FILE_TREE_MAX + 1 - *at, "%s%s", *at > 0 ? "\n" : "", wire);
    if (w < 0 || (size_t)w >= SOURCE_FILE_TREE_MAX + 1 - *at) {
        fprintf(stderr, "codeinsight: the file tree is longer than %d bytes\n",
                SOURCE_FILE_TREE_MAX);
        return CLI_EXIT_USAGE;
    }
    *at += (size_t)w;
    return 0;
}

/* --type architecture: one job; the files are the existing tree (paths
 * only), a directory standing for every file under it (walk.h). */
static int add_architecture(const struct cli_args *a, struct jobset *js)
{
    char tree[SOURCE_FILE_TREE_MAX + 1], msg[512];
    size_t at = 0;
    char *body;
    int rc = 0;

    if (strlen(a->request) > SOURCE_REQUEST_MAX) {
        fprintf(stderr, "codeinsight: --request is longer than %d bytes\n", SOURCE_REQUEST_MAX);
        return CLI_EXIT_USAGE;
    }
    tree[0] = '\0';
    for (size_t i = 0; i < a->nfiles && rc == 0; i++) {
        struct walk_list l = {0};
        struct stat st;

        if (stat(a->files[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = tree_add(a->files[i], tree, &at);
            continue;
        }
        /* Each path takes 2 bytes at least: the tree's limit bounds them. */
        if (walk_dir(a->files[i], WALK_ALL, SOURCE_FILE_TREE_MAX / 2, &l, msg, sizeof msg) != 0) {
            termtext_say(stderr, msg);
            rc = CLI_EXIT_USAGE;
        }
        for (size_t k = 0; k < l.n && rc == 0; k++)
            rc = tree_add(l.paths[k], tree, &at);
        walk_list_free(&l);
    }
    if (rc != 0)
        return rc;
    body = source_arch_body(a->request, tree);
    if (body == NULL || jobset_add(js, "architecture", body) == NULL) {
        fprintf(stderr, "codeinsight: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* A FILE argument of a review: the file, or each file under a directory
 * (walk.h), up to CLI_FILES_MAX jobs in all. */
static int add_named(const struct cli_args *a, struct jobset *js, const char *path)
{
    struct walk_list l = {0};
    struct stat st;
    char msg[512];
    int rc = 0;

    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return commands_add_review(a, js, path, NULL, NULL, 0, ADD_NAMED);
    if (walk_dir(path, WALK_REVIEWED, js->n < CLI_FILES_MAX ? CLI_FILES_MAX - js->n : 0, &l,
                 msg, sizeof msg) != 0) {
        termtext_say(stderr, msg);
        walk_list_free(&l);
        return CLI_EXIT_USAGE;
    }
    if (l.n == 0) {
        fputs("codeinsight: note: ", stderr);
        termtext_put(stderr, path, TERMTEXT_FLAT);
        fputs(": no file in a language the service reviews\n", stderr);
    }
    for (size_t i = 0; i < l.n && rc == 0; i++)
        rc = commands_add_review(a, js, l.paths[i], path, NULL, 0, ADD_FROM_DIR);
    walk_list_free(&l);
    return rc;
}

/* Every body within the service's limit, as sent (JSON-escaped): 0, or
 * CLI_EXIT_USAGE having said which is not, before anything is sent. */
static int check_bodies(const struct jobset *js)
{
    char msg[160];

    for (size_t i = 0; i < js->n; i++) {
        if (source_body_check(js->jobs[i].body, msg, sizeof msg) != 0) {
            fputs("codeinsight: ", stderr);
            termtext_put(stderr, js->jobs[i].label, TERMTEXT_FLAT);
            fprintf(stderr, ": %s\n", msg);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

int cmd_review(const struct cli_args *a, struct api *api)
{
    struct jobset js = {0};
    int rc = 0;

    if (strcmp(a->type, "debug") == 0)
        rc = add_debug(a, &js);
    else if (strcmp(a->type, "architecture") == 0)
        rc = add_architecture(a, &js);
    else if (a->diff != NULL)
        rc = diffsel_add_jobs(a, &js);
    else
        for (size_t i = 0; i < a->nfiles && rc == 0; i++)
            rc = add_named(a, &js, a->files[i]);
    /* However the files were named (a directory, a diff), one review sends
     * CLI_FILES_MAX at most, and nothing when it would send more. */
    if (rc == 0 && js.n > CLI_FILES_MAX) {
        fprintf(stderr, "codeinsight: %zu files to review: at most %d per review; name "
                "fewer\n", js.n, CLI_FILES_MAX);
        rc = CLI_EXIT_USAGE;
    }
    if (rc == 0)
        rc = check_bodies(&js);
    /* Nothing to review still prints an empty result (an empty SARIF log). */
    if (rc == 0 && js.n == 0)
        fprintf(stderr, "codeinsight: nothing to review\n");
    if (rc == 0)
        rc = commands_run_jobs(a, api, &js, !a->no_wait);
    jobset_cleanup(&js);
    return rc;
}
