/* tree_fx.h - test support for the CLI's file tests (test_cli_diffsel.c,
 * test_cli_walk.c): a fresh directory under /tmp to work in, and files
 * written into it.
 *
 *     struct tree_fx t;
 *     tree_fx_enter(&t, "test_x");        (now in /tmp/test_x.XXXXXX)
 *     tree_fx_put("a.py", "x = 1\n", 6);
 *     tree_fx_leave(&t);                  (back, and the directory gone)
 */
#ifndef TEST_TREE_FX_H
#define TEST_TREE_FX_H

#include <stddef.h>

struct tree_fx {
    char root[64];              /* the temporary directory */
    char old_cwd[4096];
};

/* Creates /tmp/<name>.XXXXXX and makes it the working directory. */
void tree_fx_enter(struct tree_fx *t, const char *name);

/* Back to the directory before, and the temporary one removed. */
void tree_fx_leave(struct tree_fx *t);

/* Writes text[0..len) to path (created or truncated). */
void tree_fx_put(const char *path, const char *text, size_t len);

#endif
