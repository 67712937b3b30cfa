/* pg_peer.h - test support: the server's side of the few messages of
 * PostgreSQL's wire protocol that the tests' fake servers speak (start-up,
 * encryption requests declined, cancel requests).
 *
 *     uint32_t code = pg_read_startup(fd, body, sizeof body);
 *     if (code == PG_PROTOCOL_3) ... answer 'R', 'K', 'Z' ...
 */
#ifndef TEST_PG_PEER_H
#define TEST_PG_PEER_H

#include <stddef.h>
#include <stdint.h>

#define PG_PROTOCOL_3 196608u       /* a start-up packet's code for protocol 3.0 */
#define PG_CANCEL_CODE 80877102u    /* a cancel request's */

/* Reads exactly n bytes. Returns 0, or -1 at the end or on error. */
int pg_read_full(int fd, void *buf, size_t n);

/* Big-endian 32-bit integers, as the protocol writes them. */
uint32_t pg_be32(const unsigned char *p);
void pg_put32(unsigned char *p, uint32_t v);

/* Reads start-up packets, declining SSL and GSS encryption requests with
 * 'N', up to another one: returns its code (PG_PROTOCOL_3, PG_CANCEL_CODE,
 * ...) with the bytes after its code in body (cap bytes at most), or 0 on
 * error or when it is longer. */
uint32_t pg_read_startup(int fd, unsigned char *body, size_t cap);

#endif
