/* language.h - the language of a file, from its name (and for a header,
 * its text).
 *
 * One table serves the worker (which linters run) and the CLI (which files
 * of a directory it submits): both must agree on what the service reviews.
 */
#ifndef CI_LANGUAGE_H
#define CI_LANGUAGE_H

#include <stddef.h>

/* Canonical language guessed from the extension of path's last component
 * (case-insensitive: ".py" -> "python", ".sh" -> "shell", ".h" -> "c",
 * ".hpp" -> "cpp", ".tsx" -> "typescript", ...). The names are those of
 * worker/linters.h. Returns a static string, or NULL when path is NULL, has
 * no extension (including dotfiles such as ".bashrc") or the extension is
 * unknown. */
const char *language_from_path(const char *path);

/* Bytes of a header language_from_source reads, at most. */
#define LANGUAGE_SNIFF_MAX (64 * 1024)

/* language_from_path, but a ".h" header (C by its name) whose text[0..len)
 * reads as C++ is "cpp": a line that begins (after blanks) with "class ",
 * "namespace ", "template", "public:", "private:", "protected:" or "using
 * namespace ", or "std::" anywhere, within its first LANGUAGE_SNIFF_MAX
 * bytes. text may be NULL when len is 0. */
const char *language_from_source(const char *path, const char *text, size_t len);

#endif
