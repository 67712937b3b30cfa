/* capture.h - test support: capture what a piece of code writes to stdout.
 *
 *     struct capture c;
 *     capture_begin(&c);
 *     log_event(LOG_INFO, "x", NULL, NULL);
 *     char *out = capture_end(&c);     // owns; free()
 */
#ifndef TEST_CAPTURE_H
#define TEST_CAPTURE_H

#include <stdio.h>

struct capture {
    int saved;      /* dup of the real stdout */
    FILE *tmp;
};

/* Redirects stdout (the descriptor, so write(2) is caught too) to a temp file. */
void capture_begin(struct capture *c);

/* Restores stdout; returns everything written meanwhile (owns, NUL-terminated). */
char *capture_end(struct capture *c);

#endif
