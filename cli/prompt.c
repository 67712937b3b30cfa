/* prompt.c - questions on stderr, answers from stdin, secrets without echo. */
#include "cli/prompt.h"

#include "common/crypto.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The terminal settings to put back if a signal arrives while echo is off:
 * set before echo is turned off, cleared after it is restored. */
static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

static void restore_and_reraise(int sig)
{
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads up to '\n' byte by byte (stdin is shared with nothing else, and
 * reading past the line would eat the next answer). */
static int read_line(char *out, size_t cap)
{
    size_t n = 0;
    int too_long = 0;
    char c;

    for (;;) {
        ssize_t got = read(STDIN_FILENO, &c, 1);

        if (got < 0)
            return -1;
        if (got == 0) {
            if (n == 0 && !too_long)
                return -1;
            break;
        }
        if (c == '\n')
            break;
        if (n + 1 < cap && n < PROMPT_LINE_MAX)
            out[n++] = c;
        else
            too_long = 1;
    }
    out[n] = '\0';
    return too_long ? -1 : 0;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

int prompt_line(const char *question, int secret, char *out, size_t cap)
{
    int tty = isatty(STDIN_FILENO), rc;
    struct sigaction sa, old_int, old_term;
    struct termios quiet;

    if (cap == 0)
        return -1;
    /* Echo goes off before the question is shown: whatever is typed after
     * the question appears is never echoed. TCSANOW, not TCSAFLUSH: input
     * typed ahead is kept. */
    if (tty && secret && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = restore_and_reraise;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        quiet = saved_tio;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        echo_off = 1;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        fputs(question, stderr);
        fflush(stderr);
        rc = read_line(out, cap);
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        echo_off = 0;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    } else {
        if (tty) {
            fputs(question, stderr);
            fflush(stderr);
        }
        rc = read_line(out, cap);
    }
    if (rc != 0) {
        crypto_wipe(out, cap);
        return -1;
    }
    trim(out);
    return 0;
}
