/* test_cli_walk.c - unit tests for `codeinsight review DIR` (cli/walk.c, and
 * commands_add_review's ADD_FROM_DIR in cli/cmd_review.c): which files under
 * a directory are reviewed, in which order, what is left out, the limits,
 * and a found file that cannot be sent skipped with a note.
 *
 * Each test runs in a fresh directory under /tmp (tree_fx.h), holding:
 *   proj/a.py  proj/b.txt  proj/Makefile  proj/.hidden.py  proj/.git/x.py
 *   proj/node_modules/m.js  proj/__pycache__/c.py  proj/sub/c.go
 *   proj/sub/deeper/d.ts  proj/link.py -> a.py  proj/linkdir -> ../outside
 *   proj/pipe.sh (a FIFO)  outside/o.py
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/commands.h"
#include "cli/source.h"
#include "cli/walk.h"
#include "tests/unit/capture.h"
#include "tests/unit/tree_fx.h"

static void puts_file(const char *path, const char *text)
{
    tree_fx_put(path, text, strlen(text));
}

static int setup(void **state)
{
    static const char *const dirs[] = {
        "proj", "proj/.git", "proj/node_modules", "proj/__pycache__", "proj/sub",
        "proj/sub/deeper", "outside",
    };
    static const char *const files[] = {
        "proj/a.py", "proj/b.txt", "proj/Makefile", "proj/.hidden.py", "proj/.git/x.py",
        "proj/node_modules/m.js", "proj/__pycache__/c.py", "proj/sub/c.go",
        "proj/sub/deeper/d.ts", "outside/o.py",
    };
    struct tree_fx *t = calloc(1, sizeof *t);

    assert_non_null(t);
    tree_fx_enter(t, "test_cli_walk");
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        assert_int_equal(mkdir(dirs[i], 0700), 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        puts_file(files[i], "x = 1\n");
    assert_int_equal(symlink("a.py", "proj/link.py"), 0);
    assert_int_equal(symlink("../outside", "proj/linkdir"), 0);
    assert_int_equal(mkfifo("proj/pipe.sh", 0600), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tree_fx_leave(*state);
    free(*state);
    return 0;
}

static void assert_paths(const struct walk_list *l, const char *const *want, size_t n)
{
    for (size_t i = 0; i < l->n && i < n; i++)
        if (strcmp(l->paths[i], want[i]) != 0)
            fail_msg("path %zu: %s, want %s", i, l->paths[i], want[i]);
    assert_int_equal(l->n, n);
}

/* Only the three files of a reviewed language, sorted; nothing hidden,
 * installed, generated, linked, or not a regular file. */
/* walk_dir(dir, what) finds exactly want[0..n), in that order. */
static void expect_walk(const char *dir, enum walk_what what, const char *const *want,
                        size_t n)
{
    struct walk_list l = {0};
    char msg[256];

    assert_int_equal(walk_dir(dir, what, 100, &l, msg, sizeof msg), 0);
    assert_paths(&l, want, n);
    walk_list_free(&l);
    assert_null(l.paths);
}

static void test_what_is_found(void **state)
{
    static const char *const want[] = {"proj/a.py", "proj/sub/c.go", "proj/sub/deeper/d.ts"};
    static const char *const dot[] = {"./outside/o.py", "./proj/a.py", "./proj/sub/c.go",
                                      "./proj/sub/deeper/d.ts"};
    static const char *const all[] = {"proj/Makefile", "proj/a.py", "proj/b.txt",
                                      "proj/sub/c.go", "proj/sub/deeper/d.ts"};

    (void)state;
    expect_walk("proj", WALK_REVIEWED, want, 3);
    expect_walk("proj/", WALK_REVIEWED, want, 3);
    /* Every file, for an architecture job's tree: what is left out is. */
    expect_walk("proj", WALK_ALL, all, 5);
    /* "." itself is walked, though its name starts with a dot. */
    expect_walk(".", WALK_REVIEWED, dot, 4);
}

/* Each walk appends, sorted in its own part; a failed one leaves the list
 * as it was. */
static void test_limits(void **state)
{
    struct walk_list l = {0};
    char msg[256], path[4096];
    size_t at = 0;

    (void)state;
    assert_int_equal(walk_dir("outside", WALK_REVIEWED, 1, &l, msg, sizeof msg), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(walk_dir("proj", WALK_REVIEWED, 2, &l, msg, sizeof msg), -1);
    assert_string_equal(msg, "proj holds more than 2 files to review: name fewer");
    assert_int_equal(l.n, 1);
    assert_string_equal(l.paths[0], "outside/o.py");
    assert_int_equal(walk_dir("proj", WALK_REVIEWED, 3, &l, msg, sizeof msg), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.paths[1], "proj/a.py");
    assert_int_equal(walk_dir("proj", WALK_REVIEWED, 0, &l, msg, sizeof msg), -1);
    assert_int_equal(l.n, 4);

    /* Nothing to find: no paths, no error (and no qsort of NULL). */
    {
        struct walk_list none = {0};
        assert_int_equal(mkdir("empty", 0700), 0);
        puts_file("empty/README.md", "# x\n");
        assert_int_equal(walk_dir("empty", WALK_REVIEWED, 10, &none, msg, sizeof msg), 0);
        assert_int_equal(none.n, 0);
        walk_list_free(&none);
    }
    assert_int_equal(walk_dir("gone", WALK_REVIEWED, 10, &l, msg, sizeof msg), -1);
    assert_string_equal(msg, "gone: No such file or directory");
    assert_int_equal(walk_dir("proj/a.py", WALK_REVIEWED, 10, &l, msg, sizeof msg), -1);
    assert_string_equal(msg, "proj/a.py: Not a directory");
    assert_int_equal(l.n, 4);
    walk_list_free(&l);

    /* WALK_DEPTH_MAX directories below the top are walked; one more is not. */
    at = (size_t)snprintf(path, sizeof path, "deep");
    assert_int_equal(mkdir(path, 0700), 0);
    for (int i = 0; i < WALK_DEPTH_MAX; i++) {
        at += (size_t)snprintf(path + at, sizeof path - at, "/d");
        assert_int_equal(mkdir(path, 0700), 0);
    }
    snprintf(path + at, sizeof path - at, "/last.py");
    puts_file(path, "y = 2\n");
    assert_int_equal(walk_dir("deep", WALK_REVIEWED, 10, &l, msg, sizeof msg), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.paths[0], path);
    walk_list_free(&l);
    snprintf(path + at, sizeof path - at, "/d");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(walk_dir("deep", WALK_REVIEWED, 10, &l, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "directories deeper than 32 below deep"));
    assert_int_equal(l.n, 0);
    walk_list_free(&l);
}

static int add_found(struct jobset *js)
{
    struct cli_args a;
    struct walk_list l = {0};
    char msg[256];
    int rc = 0;

    memset(&a, 0, sizeof a);
    a.type = "review";
    assert_int_equal(walk_dir("big", WALK_REVIEWED, 10, &l, msg, sizeof msg), 0);
    assert_int_equal(l.n, 3);
    for (size_t i = 0; i < l.n && rc == 0; i++)
        rc = commands_add_review(&a, js, l.paths[i], "big", NULL, 0, ADD_FROM_DIR);
    walk_list_free(&l);
    return rc;
}

/* A file found that cannot be sent (too large, not text) is skipped with a
 * note; the others still are; the same file named is a usage error. */
static void test_found_but_not_sent(void **state)
{
    struct jobset js = {0};
    struct cli_args a;
    struct capture c;
    char *big = malloc(SOURCE_FILE_MAX + 1), *err;
    int rc;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', SOURCE_FILE_MAX + 1);
    assert_int_equal(mkdir("big", 0700), 0);
    tree_fx_put("big/huge.js", big, SOURCE_FILE_MAX + 1);
    free(big);
    tree_fx_put("big/nul.c", "int x;\0\n", 8);
    puts_file("big/ok.sh", "echo ok\n");
    capture_begin_fd(&c, STDERR_FILENO);
    rc = add_found(&js);
    err = capture_end(&c);
    assert_int_equal(rc, 0);
    assert_int_equal(js.n, 1);
    assert_string_equal(js.jobs[0].label, "big/ok.sh");
    if (strstr(err, "note: big/huge.js: ") == NULL || strstr(err, "note: big/nul.c: ") == NULL ||
        strstr(err, ", skipped\n") == NULL)
        fail_msg("notes: %s", err);
    free(err);
    jobset_cleanup(&js);

    memset(&a, 0, sizeof a);
    a.type = "review";
    assert_int_equal(commands_add_review(&a, &js, "big/nul.c", NULL, NULL, 0, ADD_NAMED),
                     CLI_EXIT_USAGE);
    assert_int_equal(js.n, 0);
    jobset_cleanup(&js);
}

/* What the walk found is read without following a link below the named
 * directory: a file or a directory swapped for a link after the walk saw
 * it (by anyone who can write the tree) is skipped, its target never
 * read; the named directory itself may be a link (the user named it). */
static void test_swapped_for_a_link_after_the_walk(void **state)
{
    struct jobset js = {0};
    struct cli_args a;
    struct walk_list l = {0};
    struct source_file f;
    struct capture c;
    char msg[256], *err;

    (void)state;
    memset(&a, 0, sizeof a);
    a.type = "review";
    puts_file("outside/secret.py", "KEY = 'outside the tree'\n");
    assert_int_equal(mkdir("proj/sub/swap", 0700), 0);
    puts_file("proj/sub/swap/s.py", "s = 1\n");
    assert_int_equal(walk_dir("proj", WALK_REVIEWED, 100, &l, msg, sizeof msg), 0);
    assert_int_equal(l.n, 4);       /* a.py sub/c.go sub/deeper/d.ts sub/swap/s.py */
    /* proj/a.py becomes a link to a file outside; proj/sub/swap one to a
     * directory outside holding s.py. */
    assert_int_equal(unlink("proj/a.py"), 0);
    assert_int_equal(symlink("../outside/secret.py", "proj/a.py"), 0);
    assert_int_equal(unlink("proj/sub/swap/s.py"), 0);
    assert_int_equal(rmdir("proj/sub/swap"), 0);
    puts_file("outside/s.py", "KEY = 'outside too'\n");
    assert_int_equal(symlink("../../outside", "proj/sub/swap"), 0);

    capture_begin_fd(&c, STDERR_FILENO);
    for (size_t i = 0; i < l.n; i++)
        assert_int_equal(commands_add_review(&a, &js, l.paths[i], "proj", NULL, 0,
                                             ADD_FROM_DIR), 0);
    err = capture_end(&c);
    for (size_t i = 0; i < js.n; i++)
        if (strstr(js.jobs[i].body, "outside") != NULL)
            fail_msg("%s sent a file outside the tree", js.jobs[i].label);
    assert_int_equal(js.n, 2);
    if (strstr(err, "note: proj/a.py: a symbolic link in the walked tree, skipped") == NULL ||
        strstr(err, "note: proj/sub/swap/s.py: under a symbolic link in the walked tree, "
                    "skipped") == NULL)
        fail_msg("notes: %s", err);
    free(err);
    jobset_cleanup(&js);
    walk_list_free(&l);

    /* The named directory may be a link; a path not under it is refused. */
    assert_int_equal(symlink("proj", "projlink"), 0);
    assert_int_equal(source_read_walked("projlink", "projlink/sub/c.go", 100, &f, msg,
                                        sizeof msg), 0);
    assert_string_equal(f.data, "x = 1\n");
    source_file_free(&f);
    assert_int_equal(source_read_walked("proj/", "proj/sub/c.go", 100, &f, msg, sizeof msg), 0);
    source_file_free(&f);
    assert_int_equal(source_read_walked("proj", "projlink/sub/c.go", 100, &f, msg, sizeof msg),
                     SOURCE_REFUSED);
    assert_int_equal(source_read_walked("pro", "proj/sub/c.go", 100, &f, msg, sizeof msg),
                     SOURCE_REFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_what_is_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_found_but_not_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_for_a_link_after_the_walk, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
