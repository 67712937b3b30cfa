/* main.c - codeinsight: parse the command line, load the configuration,
 * run one command. */
#include "cli/api.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/settings.h"
#include "cli/help.h"
#include "cli/termtext.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Opens /dev/null on each of descriptors 0-2 that is closed, so that no file
 * or socket opened later takes its number (output meant for the terminal
 * would go into it, and libuv aborts when it closes a descriptor <= 2).
 * Standard output is opened read-only: results written there fail as they
 * would on a closed descriptor (exit 3, close_stdout), and are not lost in
 * silence. Returns 0, or -1 when one could not be opened. */
static int std_fds_open(void)
{
    static const int modes[] = {O_RDONLY, O_RDONLY, O_WRONLY};

    for (int fd = 0; fd <= STDERR_FILENO; fd++) {
        int got;

        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* The lowest free number: fd itself, as those below it are open. */
        if ((got = open("/dev/null", modes[fd])) != fd) {
            if (got >= 0)
                close(got);
            return -1;
        }
    }
    return 0;
}

/* The file's settings (missing file: empty). Returns 0 or CLI_EXIT_USAGE. */
/* Reads the config file into *file. One that cannot be used is a usage
 * error, unless needless (needless: login, which replaces it, or a URL and
 * a key given otherwise): then a note, and an empty file. */
static int load_file(char *path, size_t cap, struct cli_config *file, int needless)
{
    char msg[2 * SETTINGS_PATH_MAX + 128];
    int found;

    memset(file, 0, sizeof *file);
    if (settings_path(getenv("XDG_CONFIG_HOME"), getenv("HOME"), path, cap) != 0) {
        path[0] = '\0';
        return 0;
    }
    if (settings_load(path, file, &found, msg, sizeof msg) != 0) {
        /* The path is the environment's: said cleaned. */
        if (needless) {
            fputs("codeinsight: note: ", stderr);
            termtext_put(stderr, msg, TERMTEXT_FLAT);
            fputc('\n', stderr);
        } else {
            termtext_say(stderr, msg);
        }
        settings_wipe(file);
        return needless ? 0 : CLI_EXIT_USAGE;
    }
    return 0;
}

static int run(const struct cli_args *a, const struct cli_config *cfg)
{
    struct api api;
    struct err e;
    int rc;

    if (cfg->key_from == NULL) {
        char url[sizeof cfg->url];

        fprintf(stderr, "codeinsight: no API key for %s: run `codeinsight login` or set "
                "CODEINSIGHT_API_KEY\n", termtext_clean(url, sizeof url, cfg->url, TERMTEXT_FLAT));
        return CLI_EXIT_USAGE;
    }
    if (api_init(&api, cfg->url, cfg->api_key, &e) != ERR_OK) {
        fprintf(stderr, "codeinsight: %s (from %s)\n", e.msg, cfg->url_from);
        return CLI_EXIT_USAGE;
    }
    switch (a->cmd) {
    case CMD_REVIEW: rc = cmd_review(a, &api); break;
    case CMD_JOB:    rc = cmd_job(a, &api); break;
    case CMD_CANCEL: rc = cmd_cancel(a, &api); break;
    case CMD_WHOAMI: rc = cmd_whoami(a, &api); break;
    case CMD_USAGE:  rc = cmd_usage(a, &api); break;
    default:         rc = CLI_EXIT_USAGE; break;
    }
    api_cleanup(&api);
    return rc;
}

/* Flushes and closes standard output, so that results that could not be
 * written (a full disk, a closed descriptor) are not an exit 0 or 1:
 * returns rc, or CLI_EXIT_SERVICE having said why when a write failed
 * (a usage error keeps its 2). */
static int close_stdout(int rc)
{
    int failed, why;

    errno = 0;
    failed = fflush(stdout) != 0 || ferror(stdout);
    why = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        why = errno;
    }
    if (!failed)
        return rc;
    fprintf(stderr, "codeinsight: cannot write to standard output: %s\n",
            why != 0 ? strerror(why) : "write error");
    return rc == CLI_EXIT_USAGE ? rc : CLI_EXIT_SERVICE;
}

static int run_command(int argc, char **argv)
{
    struct cli_config file, cfg;
    char path[SETTINGS_PATH_MAX], msg[512];
    struct cli_args a;
    int rc;

    /* A closed pipe (codeinsight ... | head) ends us quietly. */
    signal(SIGPIPE, SIG_DFL);
    if (args_parse(argc, argv, &a, msg, sizeof msg) != 0) {
        termtext_say(stderr, msg);          /* it may quote an argument */
        return CLI_EXIT_USAGE;
    }
    if (a.help) {
        help_print(stdout, a.cmd);
        return CLI_EXIT_OK;
    }
    if (a.cmd == CMD_NONE) {
        help_print(stderr, CMD_NONE);
        return CLI_EXIT_USAGE;
    }
    if (a.cmd == CMD_VERSION) {
        printf("codeinsight %s\n", CLI_VERSION);
        return CLI_EXIT_OK;
    }
    if ((rc = load_file(path, sizeof path, &file,
                        a.cmd == CMD_LOGIN || (getenv("CODEINSIGHT_API_KEY") != NULL &&
                                               (a.url != NULL || getenv("CODEINSIGHT_URL"))))) != 0)
        return rc;
    settings_resolve(&cfg, a.url, getenv("CODEINSIGHT_URL"), getenv("CODEINSIGHT_API_KEY"),
                   &file);
    if (a.cmd == CMD_LOGIN) {
        if (path[0] == '\0') {
            fprintf(stderr, "codeinsight: neither XDG_CONFIG_HOME nor HOME is set: "
                    "nowhere to store the key\n");
            rc = CLI_EXIT_USAGE;
        } else {
            rc = cmd_login(&a, &cfg, path);
        }
    } else {
        rc = run(&a, &cfg);
    }
    settings_wipe(&file);
    settings_wipe(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (std_fds_open() != 0)
        return CLI_EXIT_USAGE;     /* nowhere safe to say why */
    return close_stdout(run_command(argc, argv));
}
