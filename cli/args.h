/* args.h - the codeinsight command line: commands, options, exit codes.
 *
 * Parsing is pure (no I/O, no environment): argv in, a struct cli_args out,
 * or a usage message. Strings in the result borrow argv.
 *
 *     struct cli_args a; char msg[256];
 *     if (args_parse(argc, argv, &a, msg, sizeof msg) != 0) {
 *         fprintf(stderr, "codeinsight: %s\n", msg); return CLI_EXIT_USAGE; }
 */
#ifndef CI_CLI_ARGS_H
#define CI_CLI_ARGS_H

#include <stddef.h>

/* Exit statuses, documented in --help and docs/codeinsight.1. */
enum cli_exit {
    CLI_EXIT_OK = 0,            /* clean: no finding at or above --fail-on */
    CLI_EXIT_FINDINGS = 1,      /* a finding at or above --fail-on */
    CLI_EXIT_USAGE = 2,         /* bad command line, missing file, bad configuration */
    CLI_EXIT_SERVICE = 3,       /* the service failed, refused, or a job failed */
    CLI_EXIT_INTERRUPTED = 130, /* Ctrl-C (SIGINT) while waiting: pending jobs named */
    CLI_EXIT_TERMINATED = 143,  /* SIGTERM while waiting: the same */
};

/* Most FILE arguments of one review. */
#define CLI_FILES_MAX 256

/* Most job IDs one cancel names. */
#define CLI_CANCEL_MAX 256

/* Most --run-arg arguments (the service's limit for run.args). */
#define CLI_RUN_ARGS_MAX 16

/* Longest --timeout, seconds. */
#define CLI_TIMEOUT_MAX (24L * 3600)
/* Default --timeout, seconds: how long review and job --wait wait in all. */
#define CLI_TIMEOUT_DEFAULT 900L

enum cli_cmd {
    CMD_NONE = 0,
    CMD_REVIEW,
    CMD_JOB,
    CMD_WHOAMI,
    CMD_USAGE,
    CMD_LOGIN,
    CMD_VERSION,
    CMD_CANCEL,
};

enum cli_format { FMT_TEXT = 0, FMT_JSON, FMT_SARIF, FMT_RDJSON };

/* Severity ranks, lowest first; --fail-on never is SEV_NEVER. */
enum cli_sev { SEV_INFO = 0, SEV_MINOR, SEV_MAJOR, SEV_CRITICAL, SEV_NEVER };

struct cli_args {
    enum cli_cmd cmd;
    int help;                       /* --help / -h / `help CMD`: print help for cmd */
    const char *files[CLI_FILES_MAX];   /* review: FILE arguments, in order */
    size_t nfiles;
    const char *type;               /* review|debug|architecture; default review */
    const char *diff;               /* --diff FILE or "-" (stdin); NULL when absent */
    const char *filter;             /* --filter added|diff_context|file|nofilter */
    const char *error_log;          /* --error-log FILE or "-" */
    const char *runner;             /* --run RUNNER (debug): reproduce in the sandbox */
    const char *run_args[CLI_RUN_ARGS_MAX]; /* --run-arg ARG, in order */
    size_t nrun_args;
    const char *request;            /* --request TEXT (architecture) */
    const char *language;           /* --language NAME; NULL: the server guesses */
    enum cli_format format;         /* --format; default text */
    enum cli_sev fail_on;           /* --fail-on; default SEV_MAJOR */
    int no_wait;                    /* review --no-wait */
    int no_cache;                   /* review --no-cache: fresh reviews, not cached answers */
    int cancel_on_interrupt;        /* review, job --wait: an interrupt cancels the jobs */
    int wait;                       /* job --wait */
    int json;                       /* whoami/usage --json */
    int quiet;                      /* --quiet: no progress, no summary */
    long timeout_s;                 /* --timeout SECONDS */
    const char *job_id;             /* job ID */
    const char *cancel_ids[CLI_CANCEL_MAX];     /* cancel: ID arguments, in order */
    size_t ncancel_ids;
    const char *url;                /* --url URL (any command) */
};

/* Parses argv[1..argc). Returns 0 with *a filled (defaults applied), or
 * CLI_EXIT_USAGE with a one-line reason in msg (cap bytes). `--help` and
 * `help [CMD]` succeed with a->help set. */
int args_parse(int argc, char *const *argv, struct cli_args *a, char *msg, size_t cap);

/* Rank of a severity name ("critical" ...), or -1 when unknown. */
int args_sev_rank(const char *name);

#endif
