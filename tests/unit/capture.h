/* capture.h - test support: capture what a piece of code writes to stdout
 * (or stderr).
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
    int fd;         /* the descriptor captured */
    int saved;      /* dup of the real one */
    FILE *tmp;
};

/* Redirects stdout (the descriptor, so write(2) is caught too) to a temp file. */
void capture_begin(struct capture *c);

/* The same for descriptor fd (STDERR_FILENO). */
void capture_begin_fd(struct capture *c, int fd);

/* Restores the descriptor; returns everything written meanwhile (owns,
 * NUL-terminated). */
char *capture_end(struct capture *c);

#endif
