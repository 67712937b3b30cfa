/* relpath.h - checks for client-supplied relative file paths. */
#ifndef CI_RELPATH_H
#define CI_RELPATH_H

#include <stddef.h>

/* 1 when path[0..len) is an acceptable relative file path: non-empty, valid
 * UTF-8, not absolute (no leading '/' or '\' or drive letter), no control
 * characters, no ".." segment, and a last segment that names a file (not
 * empty, "." or ".."). '\' counts as a separator too. */
int relpath_valid(const char *path, size_t len);

/* Bytes of one path segment at most, as on Linux file systems. */
#define RELPATH_NAME_MAX 255

/* Writes path without its "." and empty segments into out (cap bytes):
 * "./src//a.py" -> "src/a.py". Returns 0, or -1 when path (NUL-terminated)
 * is not relpath_valid, a segment is longer than RELPATH_NAME_MAX, or the
 * result does not fit. */
int relpath_normal(const char *path, char *out, size_t cap);

/* 1 when normal paths a and b (relpath_normal's form) cannot both be files
 * of one tree: they are the same, or one is a directory holding the other
 * ("src" and "src/a.py"). */
int relpath_clash(const char *a, const char *b);

#endif
