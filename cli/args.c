/* args.c - the command line, from one option table. */
#include "cli/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
    OPT_HELP, OPT_TYPE, OPT_DIFF, OPT_FILTER, OPT_ERROR_LOG, OPT_RUN, OPT_RUN_ARG, OPT_REQUEST,
    OPT_LANGUAGE,
    OPT_FORMAT, OPT_FAIL_ON, OPT_NO_WAIT, OPT_NO_CACHE, OPT_WAIT, OPT_JSON, OPT_QUIET, OPT_TIMEOUT, OPT_URL,
    OPT_CANCEL_ON_INTERRUPT,
};

#define ON(c) (1u << (c))
#define ANY_CMD (ON(CMD_NONE) | ON(CMD_REVIEW) | ON(CMD_JOB) | ON(CMD_WHOAMI) | \
                 ON(CMD_USAGE) | ON(CMD_LOGIN) | ON(CMD_VERSION) | ON(CMD_CANCEL))

/* Which options each command takes; an option elsewhere is a usage error. */
static const struct opt {
    const char *name;
    char short_name;            /* 0: none */
    int has_arg;
    enum opt_id id;
    unsigned cmds;
} opts[] = {
    {"help",      'h', 0, OPT_HELP,      ANY_CMD},
    {"url",       0,   1, OPT_URL,       ANY_CMD},
    {"type",      't', 1, OPT_TYPE,      ON(CMD_REVIEW)},
    {"diff",      0,   1, OPT_DIFF,      ON(CMD_REVIEW)},
    {"filter",    0,   1, OPT_FILTER,    ON(CMD_REVIEW)},
    {"error-log", 0,   1, OPT_ERROR_LOG, ON(CMD_REVIEW)},
    {"run",       0,   1, OPT_RUN,       ON(CMD_REVIEW)},
    {"run-arg",   0,   1, OPT_RUN_ARG,   ON(CMD_REVIEW)},
    {"request",   0,   1, OPT_REQUEST,   ON(CMD_REVIEW)},
    {"language",  0,   1, OPT_LANGUAGE,  ON(CMD_REVIEW)},
    {"format",    'f', 1, OPT_FORMAT,    ON(CMD_REVIEW) | ON(CMD_JOB)},
    {"fail-on",   0,   1, OPT_FAIL_ON,   ON(CMD_REVIEW) | ON(CMD_JOB)},
    {"no-wait",   0,   0, OPT_NO_WAIT,   ON(CMD_REVIEW)},
    {"no-cache",  0,   0, OPT_NO_CACHE,  ON(CMD_REVIEW)},
    {"wait",      'w', 0, OPT_WAIT,      ON(CMD_JOB)},
    {"quiet",     'q', 0, OPT_QUIET,     ON(CMD_REVIEW) | ON(CMD_JOB)},
    {"timeout",   0,   1, OPT_TIMEOUT,   ON(CMD_REVIEW) | ON(CMD_JOB)},
    {"cancel-on-interrupt", 0, 0, OPT_CANCEL_ON_INTERRUPT, ON(CMD_REVIEW) | ON(CMD_JOB)},
    {"json",      0,   0, OPT_JSON,      ON(CMD_WHOAMI) | ON(CMD_USAGE)},
};

static const char *const cmd_names[] = {
    [CMD_NONE] = "", [CMD_REVIEW] = "review", [CMD_JOB] = "job", [CMD_WHOAMI] = "whoami",
    [CMD_USAGE] = "usage", [CMD_LOGIN] = "login", [CMD_VERSION] = "version",
    [CMD_CANCEL] = "cancel",
};

static const char *const formats[] = {
    [FMT_TEXT] = "text", [FMT_JSON] = "json", [FMT_SARIF] = "sarif", [FMT_RDJSON] = "rdjson",
};

/* The service's runners (run.runner). */
static const char *const runners[] = {"python", "pytest", "node", "sh", "bash", "cc"};

static const char *const sev_names[] = {
    [SEV_INFO] = "info", [SEV_MINOR] = "minor", [SEV_MAJOR] = "major",
    [SEV_CRITICAL] = "critical", [SEV_NEVER] = "never",
};

static int usage(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int usage(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* Name of a command ("review"), "" for CMD_NONE. */
static const char *args_cmd_name(enum cli_cmd cmd)
{
    return (unsigned)cmd < sizeof cmd_names / sizeof cmd_names[0] ? cmd_names[cmd] : "";
}

static int lookup(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

int args_sev_rank(const char *name)
{
    int r = name ? lookup(sev_names, sizeof sev_names / sizeof sev_names[0], name) : -1;

    return r == SEV_NEVER ? -1 : r;
}

static enum cli_cmd cmd_lookup(const char *s)
{
    int c = lookup(cmd_names, sizeof cmd_names / sizeof cmd_names[0], s);

    return c > 0 ? (enum cli_cmd)c : CMD_NONE;
}

/* The option a "--name[=v]" or "-x" argument names, or NULL. */
static const struct opt *opt_find(const char *arg, const char **inline_val)
{
    *inline_val = NULL;
    if (arg[1] != '-') {
        if (arg[2] != '\0')
            return NULL;        /* no bundled short options */
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
            if (opts[i].short_name != 0 && opts[i].short_name == arg[1])
                return &opts[i];
        return NULL;
    }
    arg += 2;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        size_t n = strlen(opts[i].name);

        if (strncmp(arg, opts[i].name, n) != 0)
            continue;
        if (arg[n] == '\0')
            return &opts[i];
        if (arg[n] == '=') {
            *inline_val = arg + n + 1;
            return &opts[i];
        }
    }
    return NULL;
}

static int set_option(struct cli_args *a, const struct opt *o, const char *v, char *msg,
                      size_t cap)
{
    char *end;
    int r;

    switch (o->id) {
    case OPT_HELP:      a->help = 1; break;
    case OPT_URL:       a->url = v; break;
    case OPT_DIFF:      a->diff = v; break;
    case OPT_ERROR_LOG: a->error_log = v; break;
    case OPT_REQUEST:   a->request = v; break;
    case OPT_LANGUAGE:  a->language = v; break;
    case OPT_NO_WAIT:   a->no_wait = 1; break;
    case OPT_NO_CACHE:  a->no_cache = 1; break;
    case OPT_WAIT:      a->wait = 1; break;
    case OPT_CANCEL_ON_INTERRUPT: a->cancel_on_interrupt = 1; break;
    case OPT_JSON:      a->json = 1; break;
    case OPT_QUIET:     a->quiet = 1; break;
    case OPT_TYPE:
        if (strcmp(v, "review") != 0 && strcmp(v, "debug") != 0 &&
            strcmp(v, "architecture") != 0)
            return usage(msg, cap, "--type must be review, debug or architecture, not '%s'", v);
        a->type = v;
        break;
    case OPT_RUN:
        if (lookup(runners, sizeof runners / sizeof runners[0], v) < 0)
            return usage(msg, cap, "--run must be python, pytest, node, sh, bash or cc, not "
                         "'%s'", v);
        a->runner = v;
        break;
    case OPT_RUN_ARG:
        if (a->nrun_args >= CLI_RUN_ARGS_MAX)
            return usage(msg, cap, "at most %d --run-arg", CLI_RUN_ARGS_MAX);
        a->run_args[a->nrun_args++] = v;
        break;
    case OPT_FILTER:
        if (strcmp(v, "added") != 0 && strcmp(v, "diff_context") != 0 &&
            strcmp(v, "file") != 0 && strcmp(v, "nofilter") != 0)
            return usage(msg, cap,
                         "--filter must be added, diff_context, file or nofilter, not '%s'", v);
        a->filter = v;
        break;
    case OPT_FORMAT:
        r = lookup(formats, sizeof formats / sizeof formats[0], v);
        if (r < 0)
            return usage(msg, cap, "--format must be text, json, sarif or rdjson, not '%s'", v);
        a->format = (enum cli_format)r;
        break;
    case OPT_FAIL_ON:
        r = lookup(sev_names, sizeof sev_names / sizeof sev_names[0], v);
        if (r < 0 || r == SEV_INFO)
            return usage(msg, cap,
                         "--fail-on must be critical, major, minor or never, not '%s'", v);
        a->fail_on = (enum cli_sev)r;
        break;
    case OPT_TIMEOUT:
        errno = 0;
        a->timeout_s = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || a->timeout_s < 1 ||
            a->timeout_s > CLI_TIMEOUT_MAX)
            return usage(msg, cap, "--timeout must be 1..%ld seconds, not '%s'",
                         CLI_TIMEOUT_MAX, v);
        break;
    }
    return 0;
}

/* How many of FILE, --diff and --error-log read standard input ("-"). */
static size_t stdin_readers(const struct cli_args *a)
{
    size_t n = (a->diff != NULL && strcmp(a->diff, "-") == 0) +
               (a->error_log != NULL && strcmp(a->error_log, "-") == 0);

    for (size_t i = 0; i < a->nfiles; i++)
        n += strcmp(a->files[i], "-") == 0;
    return n;
}

/* Checks what only the whole command line can tell. */
static int check_combination(struct cli_args *a, char *msg, size_t cap)
{
    int arch = strcmp(a->type, "architecture") == 0, debug = strcmp(a->type, "debug") == 0;

    if (a->help || a->cmd == CMD_NONE || a->cmd == CMD_VERSION)
        return 0;
    if (a->cmd == CMD_JOB && a->job_id == NULL)
        return usage(msg, cap, "job needs a job ID");
    if (a->cmd == CMD_JOB && a->cancel_on_interrupt && !a->wait)
        return usage(msg, cap, "--cancel-on-interrupt needs --wait");
    if (a->cmd == CMD_CANCEL && a->ncancel_ids == 0)
        return usage(msg, cap, "cancel needs at least one job ID");
    if (a->cmd != CMD_REVIEW)
        return 0;
    if (debug && a->error_log == NULL && a->runner == NULL)
        return usage(msg, cap, "--type debug needs --error-log FILE or --run RUNNER (or both)");
    if (!debug && (a->error_log != NULL || a->runner != NULL || a->nrun_args > 0))
        return usage(msg, cap, "%s is for --type debug",
                     a->error_log != NULL ? "--error-log" : a->runner ? "--run" : "--run-arg");
    if (a->nrun_args > 0 && a->runner == NULL)
        return usage(msg, cap, "--run-arg needs --run RUNNER");
    if (arch && a->request == NULL)
        return usage(msg, cap, "--type architecture needs --request TEXT");
    if (!arch && a->request != NULL)
        return usage(msg, cap, "--request is for --type architecture");
    if (arch && (a->format == FMT_SARIF || a->format == FMT_RDJSON))
        return usage(msg, cap, "--type architecture has no findings: --format text or json");
    if (a->diff != NULL && (arch || debug))
        return usage(msg, cap, "--diff is for --type review");
    if (a->filter != NULL && a->diff == NULL)
        return usage(msg, cap, "--filter needs --diff");
    if (a->nfiles == 0 && a->diff == NULL && !arch)
        return usage(msg, cap, "review needs at least one FILE (or --diff)");
    if (stdin_readers(a) > 1)
        return usage(msg, cap, "standard input ('-') can be read only once");
    if (a->no_wait && a->format != FMT_TEXT && a->format != FMT_JSON)
        return usage(msg, cap, "--no-wait prints job ids: --format text or json only");
    if (a->no_wait && a->cancel_on_interrupt)
        return usage(msg, cap, "--cancel-on-interrupt is for a review that waits, not --no-wait");
    return 0;
}

static void defaults(struct cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->type = "review";
    a->format = FMT_TEXT;
    a->fail_on = SEV_MAJOR;
    a->timeout_s = CLI_TIMEOUT_DEFAULT;
}

/* A positional argument: the command, then its operands. */
static int positional(struct cli_args *a, const char *arg, int *help_cmd, char *msg,
                      size_t cap)
{
    if (a->cmd == CMD_NONE && !*help_cmd) {
        if (strcmp(arg, "help") == 0) {
            *help_cmd = 1;
            a->help = 1;
            return 0;
        }
        a->cmd = cmd_lookup(arg);
        if (a->cmd == CMD_NONE)
            return usage(msg, cap, "unknown command '%s' (try codeinsight --help)", arg);
        return 0;
    }
    if (*help_cmd) {
        if (a->cmd != CMD_NONE)
            return usage(msg, cap, "help takes one command");
        a->cmd = cmd_lookup(arg);
        if (a->cmd == CMD_NONE)
            return usage(msg, cap, "unknown command '%s'", arg);
        return 0;
    }
    if (a->cmd == CMD_REVIEW) {
        if (a->nfiles >= CLI_FILES_MAX)
            return usage(msg, cap, "at most %d files per review", CLI_FILES_MAX);
        a->files[a->nfiles++] = arg;
        return 0;
    }
    if (a->cmd == CMD_JOB && a->job_id == NULL) {
        a->job_id = arg;
        return 0;
    }
    if (a->cmd == CMD_CANCEL) {
        if (a->ncancel_ids >= CLI_CANCEL_MAX)
            return usage(msg, cap, "at most %d job IDs per cancel", CLI_CANCEL_MAX);
        a->cancel_ids[a->ncancel_ids++] = arg;
        return 0;
    }
    return usage(msg, cap, "%s: unexpected argument '%s'", args_cmd_name(a->cmd), arg);
}

int args_parse(int argc, char *const *argv, struct cli_args *a, char *msg, size_t cap)
{
    int only_operands = 0, help_cmd = 0, rc;

    defaults(a);
    if (cap > 0)
        msg[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        const struct opt *o;

        if (only_operands || arg[0] != '-' || arg[1] == '\0') {
            if ((rc = positional(a, arg, &help_cmd, msg, cap)) != 0)
                return rc;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (strcmp(arg, "--version") == 0 && a->cmd == CMD_NONE) {
            a->cmd = CMD_VERSION;
            continue;
        }
        if ((o = opt_find(arg, &v)) == NULL)
            return usage(msg, cap, "unknown option '%s'", arg);
        if ((o->cmds & ON(a->cmd)) == 0)
            return usage(msg, cap, "%s%s does not take --%s", a->cmd ? "" : "codeinsight",
                         args_cmd_name(a->cmd), o->name);
        if (!o->has_arg && v != NULL)
            return usage(msg, cap, "--%s takes no value", o->name);
        if (o->has_arg && v == NULL) {
            if (i + 1 >= argc)
                return usage(msg, cap, "--%s needs a value", o->name);
            v = argv[++i];
        }
        if ((rc = set_option(a, o, v, msg, cap)) != 0)
            return rc;
    }
    return check_combination(a, msg, cap);
}
