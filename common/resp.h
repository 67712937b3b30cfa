/* resp.h - encoding a Redis command as RESP (an array of bulk strings).
 *
 * hiredis formats an argv command with sdscatfmt, a byte at a time; this
 * writes the same bytes with one length pass and one copy per argument, and
 * the connection modules hand the result to redis{Append,Async}Formatted-
 * Command. Into the caller's buffer when it is large enough, else into a
 * new one:
 *
 *     char stack[RESP_STACK_BYTES];
 *     size_t n;
 *     char *cmd = resp_encode(argc, argv, lens, stack, sizeof stack, &n);
 *     ...use cmd[0..n)...
 *     if (cmd != stack) free(cmd);
 */
#ifndef CI_RESP_H
#define CI_RESP_H

#include <stddef.h>

/* A stack buffer that holds a typical submission's EVALSHA. */
#define RESP_STACK_BYTES 4096

/* Bytes resp_encode writes for this command (argument lengths from lens, or
 * strlen when lens is NULL). */
size_t resp_size(int argc, const char **argv, const size_t *lens);

/* Encodes the command into buf when it fits in cap bytes, else into a new
 * allocation (NULL when out of memory). *len gets the encoded length; the
 * output is not NUL-terminated. */
char *resp_encode(int argc, const char **argv, const size_t *lens, char *buf, size_t cap,
                  size_t *len);

#endif
