/* walk.h - the files under a directory given to `codeinsight review`.
 *
 * `codeinsight review src/` reviews every file under src whose extension
 * names a language the service reviews (common/language.h), as if each had
 * been named. What is left out, and why:
 *  - entries whose name starts with '.' (.git, .venv, .env, editor state);
 *  - directories named node_modules or __pycache__ (installed or generated
 *    code, as flake8 and ESLint leave them out);
 *  - symbolic links, never followed (nothing outside the tree is read, and
 *    a link loop cannot hold the walk; each directory is opened from its
 *    parent with O_NOFOLLOW, and the files found are read the same way,
 *    source_read_walked), FIFOs, sockets and devices;
 *  - files of other extensions (README.md, Makefile, data), unless every
 *    file is asked for (WALK_ALL: the tree an architecture job is sent).
 * A subdirectory that cannot be read is skipped with a note on stderr.
 *
 *     struct walk_list l = {0};
 *     if (walk_dir("src", room, &l, msg, sizeof msg) == 0)
 *         for (size_t i = 0; i < l.n; i++) review(l.paths[i]);
 *     walk_list_free(&l);
 */
#ifndef CI_CLI_WALK_H
#define CI_CLI_WALK_H

#include <stddef.h>

/* Deepest directory below the one named (src/a/b/c.py is 2 below src). */
#define WALK_DEPTH_MAX 32

/* Which files a walk lists. */
enum walk_what {
    WALK_REVIEWED,      /* those whose extension names a language reviewed */
    WALK_ALL,           /* every regular file (an architecture job's tree) */
};

/* Paths found (owned), "dir/sub/name" with dir as given, sorted (strcmp). */
struct walk_list {
    char **paths;
    size_t n, cap;
};

/* Appends the files under dir that `what` names, sorted, to out (what is
 * left out above is left out either way). Returns 0; or -1 with msg
 * (naming dir) when dir cannot be read, when more than max files would be
 * found, when a directory is deeper than WALK_DEPTH_MAX or a path longer
 * than PATH_MAX, or out of memory. On -1, out holds the paths it held
 * before (walk_list_free it either way). */
int walk_dir(const char *dir, enum walk_what what, size_t max, struct walk_list *out,
             char *msg, size_t cap);

void walk_list_free(struct walk_list *l);

#endif
