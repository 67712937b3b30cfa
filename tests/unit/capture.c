/* capture.c - stdout (or stderr) capture for unit tests (see capture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/capture.h"

void capture_begin_fd(struct capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(fd);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->tmp), fd) >= 0);
}

void capture_begin(struct capture *c)
{
    capture_begin_fd(c, STDOUT_FILENO);
}

char *capture_end(struct capture *c)
{
    off_t n;
    char *out;

    fflush(stdout);
    fflush(stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    /* log_end() uses write(2): read the descriptor, not the FILE. */
    n = lseek(fileno(c->tmp), 0, SEEK_END);
    assert_true(n >= 0);
    out = malloc((size_t)n + 1);
    assert_non_null(out);
    assert_true(lseek(fileno(c->tmp), 0, SEEK_SET) == 0);
    assert_int_equal(read(fileno(c->tmp), out, (size_t)n), n);
    out[n] = '\0';
    fclose(c->tmp);
    return out;
}
