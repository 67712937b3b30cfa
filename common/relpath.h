/* relpath.h - checks for client-supplied relative file paths. */
#ifndef CI_RELPATH_H
#define CI_RELPATH_H

#include <stddef.h>

/* 1 when path[0..len) is an acceptable relative file path: non-empty, valid
 * UTF-8, not absolute (no leading '/' or '\' or drive letter), no control
 * characters, no ".." segment, and a last segment that names a file (not
 * empty, "." or ".."). '\' counts as a separator too. */
int relpath_valid(const char *path, size_t len);

#endif
