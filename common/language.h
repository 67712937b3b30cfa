/* language.h - the language of a file, from its name.
 *
 * One table serves the worker (which linters run) and the CLI (which files
 * of a directory it submits): both must agree on what the service reviews.
 */
#ifndef CI_LANGUAGE_H
#define CI_LANGUAGE_H

/* Canonical language guessed from the extension of path's last component
 * (case-insensitive: ".py" -> "python", ".sh" -> "shell", ".h" -> "c",
 * ".hpp" -> "cpp", ".tsx" -> "typescript", ...). The names are those of
 * worker/linters.h. Returns a static string, or NULL when path is NULL, has
 * no extension (including dotfiles such as ".bashrc") or the extension is
 * unknown. */
const char *language_from_path(const char *path);

#endif
