/* help.c - help texts; docs/codeinsight.1 says the same at length. */
#include "cli/help.h"

static const char exit_codes[] =
    "\n"
    "Exit status:\n"
    "  0  clean: no finding at or above --fail-on (or --no-wait, or success)\n"
    "  1  a finding at or above --fail-on\n"
    "  2  usage error: bad option, missing or unreadable file, bad configuration\n"
    "  3  service error: unreachable, refused (bad key, rate limit after retries),\n"
    "     a job failed, or --timeout passed; or stdout could not be written\n"
    "  130  interrupted (Ctrl-C) while waiting: the ids of the jobs not\n"
    "     finished are listed, to follow with codeinsight job ID (or stop\n"
    "     with codeinsight cancel ID...; --cancel-on-interrupt cancels them)\n"
    "  143  the same after SIGTERM\n";

static const char config_text[] =
    "\n"
    "Configuration: --url, else CODEINSIGHT_URL, else the config file written by\n"
    "`codeinsight login` ($XDG_CONFIG_HOME/codeinsight/config, default\n"
    "~/.config/codeinsight/config, mode 0600). The API key comes from\n"
    "CODEINSIGHT_API_KEY, else that file (used only with the file's URL).\n"
    "NO_COLOR=1 turns live progress into plain lines.\n";

static const char overview[] =
    "Usage: codeinsight <command> [options]\n"
    "\n"
    "AI code review from the command line.\n"
    "\n"
    "Commands:\n"
    "  review FILE...     review files (or a diff) and print the findings\n"
    "  job ID             show a job (--wait: until it finishes)\n"
    "  cancel ID...       cancel jobs not finished yet\n"
    "  whoami             who the API key belongs to, plan and limits\n"
    "  usage              this month's tokens, cost and jobs\n"
    "  login              store the service URL and an API key\n"
    "\n"
    "Options for every command:\n"
    "  --url URL          the service (default http://127.0.0.1:8080)\n"
    "  -h, --help         help for the command (codeinsight help <command>)\n"
    "  --version          print the version\n";

static const char every_command[] =
    "\n"
    "Options for every command:\n"
    "      --url URL       the service (default http://127.0.0.1:8080)\n"
    "  -h, --help          this help\n";

static const char review_text[] =
    "Usage: codeinsight review FILE... [options]\n"
    "       git diff | codeinsight review --diff - [FILE...]\n"
    "\n"
    "Submits each FILE as one job (up to 8 requests at once), shows progress on\n"
    "stderr (live on a terminal, plain lines otherwise) and prints the findings\n"
    "on stdout, compiler-style:\n"
    "  path:line:col: severity: message [rule] (source)\n"
    "A directory stands for the files under it in a language the service\n"
    "reviews (by extension), in path order; hidden entries, node_modules,\n"
    "__pycache__ and links are left out, and a file too large or not text is\n"
    "skipped with a note. At most 256 files per review.\n"
    "\n"
    "Options:\n"
    "  -t, --type TYPE     review (default), debug or architecture\n"
    "      --diff FILE|-   a unified diff (- reads stdin): each FILE is reviewed\n"
    "                      with its section; without FILEs, every file the diff\n"
    "                      adds or modifies is read from the working tree\n"
    "                      (deleted and binary files are skipped, and so is\n"
    "                      a link, an absolute or '..' path: nothing outside\n"
    "                      the working directory is read)\n"
    "      --filter F      with --diff: added, diff_context, file or nofilter\n"
    "      --error-log F   debug: the error output or trace (- reads stdin); the\n"
    "                      first FILE is the failing one, the others its context\n"
    "      --run RUNNER    debug: run the failing FILE in the service's sandbox to\n"
    "                      reproduce the error and verify the fix: python, pytest,\n"
    "                      node, sh, bash or cc (cc compiles every .c FILE)\n"
    "      --run-arg ARG   debug: an argument for that run (repeatable, up to 16)\n"
    "      --request TEXT  architecture: what to design; FILEs, if any, are sent\n"
    "                      as the existing file tree (their paths only; a\n"
    "                      directory: every file under it)\n"
    "      --language L    the language (default: guessed by the service from\n"
    "                      the file extension)\n"
    "  -f, --format F      text (default), json, sarif or rdjson\n"
    "      --fail-on S     exit 1 when a finding is at least S: critical,\n"
    "                      major (default), minor, or never\n"
    "      --no-wait       print JOB_ID<TAB>PATH per job and exit 0\n"
    "      --no-cache      a fresh review of each FILE, not the service's answer\n"
    "                      to an identical earlier submission\n"
    "      --timeout S     wait at most S seconds in all (default 900)\n"
    "      --cancel-on-interrupt\n"
    "                      Ctrl-C or SIGTERM cancels the jobs not finished\n"
    "                      (a CI job stopped does not leave them running)\n"
    "  -q, --quiet         no progress, no summary\n";

static const char job_text[] =
    "Usage: codeinsight job ID [--wait [--cancel-on-interrupt]] [--format F] [--fail-on S]\n"
    "                          [--timeout S] [--quiet]\n"
    "\n"
    "Shows job ID: its findings (text), its view (json) or a SARIF / rdjson\n"
    "document. Without --wait a job still queued or running is reported as such\n"
    "(exit 0; sarif and rdjson need a finished job: exit 3).\n"
    "\n"
    "Options:\n"
    "  -w, --wait          wait until the job finishes (see --timeout)\n"
    "  -f, --format F      text (default), json, sarif or rdjson\n"
    "      --fail-on S     critical, major (default), minor or never\n"
    "      --timeout S     wait at most S seconds (default 900)\n"
    "      --cancel-on-interrupt\n"
    "                      with --wait: Ctrl-C or SIGTERM cancels the job\n"
    "  -q, --quiet         no progress, no summary\n";

static const char cancel_text[] =
    "Usage: codeinsight cancel ID...\n"
    "\n"
    "Cancels each job (yours, not finished yet) and prints one line per job:\n"
    "  ID<TAB>cancelled     it was queued: it will not run, nothing is charged\n"
    "  ID<TAB>cancelling    it runs: its worker stops it (codeinsight job ID\n"
    "                       --wait shows the end)\n"
    "A job that is done or failed, or not yours, is reported on stderr (exit 3);\n"
    "the others are still cancelled.\n";

static const char whoami_text[] =
    "Usage: codeinsight whoami [--json]\n"
    "\n"
    "Prints the account the API key belongs to: email, plan, rate limits and\n"
    "this month's token budget. --json prints the service's answer as is.\n";

static const char usage_text[] =
    "Usage: codeinsight usage [--json]\n"
    "\n"
    "Prints this month's tokens, cost, jobs and prompt-cache hits, by task type.\n"
    "--json prints the service's answer as is.\n";

static const char login_text[] =
    "Usage: codeinsight login [--url URL]\n"
    "\n"
    "Asks for the service URL (default: --url, CODEINSIGHT_URL or the current\n"
    "one), then for an API key, or an email and password: these are traded for\n"
    "a new API key (POST /auth/login, then POST /keys); the password is never\n"
    "stored. On a terminal secrets are read without echo; otherwise one answer\n"
    "per line from stdin. The key is checked with GET /whoami, then written to\n"
    "the config file (mode 0600, directory 0700). The key is never printed.\n";

void help_print(FILE *out, enum cli_cmd cmd)
{
    switch (cmd) {
    case CMD_REVIEW: fputs(review_text, out); break;
    case CMD_JOB:    fputs(job_text, out); break;
    case CMD_CANCEL: fputs(cancel_text, out); break;
    case CMD_WHOAMI: fputs(whoami_text, out); break;
    case CMD_USAGE:  fputs(usage_text, out); break;
    case CMD_LOGIN:  fputs(login_text, out); break;
    default:         fputs(overview, out); break;
    }
    if (cmd != CMD_NONE)
        fputs(every_command, out);
    fputs(config_text, out);
    fputs(exit_codes, out);
}
