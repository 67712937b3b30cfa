/* prompt.h - asking the user one line at a time (login).
 *
 * On a terminal the question goes to stderr and a secret is read with echo
 * off (restored on return, and on SIGINT/SIGTERM before the signal is
 * re-raised). Otherwise each answer is the next line of stdin, with no
 * question printed, so `printf 'url\nkey\n' | codeinsight login` works.
 */
#ifndef CI_CLI_PROMPT_H
#define CI_CLI_PROMPT_H

#include <stddef.h>

/* Longest answer, bytes excluding the NUL. */
#define PROMPT_LINE_MAX 1024

/* Reads one answer into out (cap bytes, at most PROMPT_LINE_MAX + 1),
 * without its newline or surrounding blanks. Returns 0, or -1 at end of
 * input, on a read error or when the line is too long (out is then
 * wiped). */
int prompt_line(const char *question, int secret, char *out, size_t cap);

#endif
