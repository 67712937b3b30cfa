/* fixture.h - test support: read fixture files (paths are relative to the
 * repository root, where the unit tests run) and copy test input exactly.
 *
 *     size_t len;
 *     char *text = fixture_read("tests/fixtures/lint/", "bad.py", &len);  // owns; free()
 */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <stddef.h>

/* Largest fixture, bytes; a larger file fails the test. */
#define FIXTURE_MAX (1024 * 1024)

/* Reads the file dir + name (dir ends in '/'). Returns its bytes with a NUL
 * after them (owns; free()), their count in *len. Fails the test when the
 * file cannot be opened or read, or is larger than FIXTURE_MAX. */
char *fixture_read(const char *dir, const char *name, size_t *len);

/* Like fixture_read, without the line breaks (\n, \r) the file ends with: a
 * token, key or JSON document as one string. len may be NULL. */
char *fixture_read_trimmed(const char *dir, const char *name, size_t *len);

/* A heap copy of s[0..len) without a terminating NUL (owns; free()), so
 * ASan catches a parser reading past len. Fails the test when out of
 * memory. */
char *fixture_exact_copy(const char *s, size_t len);

#endif
