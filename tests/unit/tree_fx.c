/* tree_fx.c - a temporary working directory for the CLI tests (tree_fx.h). */
#include "tests/unit/tree_fx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

void tree_fx_enter(struct tree_fx *t, const char *name)
{
    assert_non_null(getcwd(t->old_cwd, sizeof t->old_cwd));
    snprintf(t->root, sizeof t->root, "/tmp/%s.XXXXXX", name);
    assert_non_null(mkdtemp(t->root));
    assert_int_equal(chdir(t->root), 0);
}

void tree_fx_leave(struct tree_fx *t)
{
    char cmd[128];

    assert_int_equal(chdir(t->old_cwd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
    assert_int_equal(system(cmd), 0);
}

void tree_fx_put(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}
