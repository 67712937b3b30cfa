/* test_cli_diffsel.c - unit tests for review --diff without FILE arguments
 * (cli/diffsel.c, source_read_tree in cli/source.c): the diff chooses the
 * files, and nothing outside the working directory is read, whatever the
 * diff names or the tree's links point at.
 *
 * Each test runs in a fresh directory under /tmp: work/ is the working
 * directory, secret/id_rsa (holding SECRET) lies outside it, and work/ holds
 * ok.go, sub/ok.go, a link innocent.txt -> ../secret/id_rsa, a link
 * linkdir -> ../secret, a FIFO and a directory.
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
#include "tests/unit/capture.h"
#include "tests/unit/tree_fx.h"

#define SECRET "SECRET-id_rsa-contents"

struct tree {
    struct tree_fx fx;      /* the temporary directory */
    char secret[128];       /* absolute path of secret/id_rsa */
};

static void put(const char *path, const char *text)
{
    tree_fx_put(path, text, strlen(text));
}

static int setup(void **state)
{
    struct tree *t = calloc(1, sizeof *t);

    assert_non_null(t);
    tree_fx_enter(&t->fx, "test_cli_diffsel");
    assert_int_equal(mkdir("secret", 0700), 0);
    put("secret/id_rsa", SECRET "\n");
    snprintf(t->secret, sizeof t->secret, "%s/secret/id_rsa", t->fx.root);
    assert_int_equal(mkdir("work", 0700), 0);
    assert_int_equal(chdir("work"), 0);
    assert_int_equal(mkdir("sub", 0700), 0);
    assert_int_equal(mkdir("adir", 0700), 0);
    put("ok.go", "package ok\n");
    put("sub/ok.go", "package sub\n");
    assert_int_equal(symlink("../secret/id_rsa", "innocent.txt"), 0);
    assert_int_equal(symlink("../secret", "linkdir"), 0);
    assert_int_equal(mkfifo("pipe", 0600), 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tree *t = *state;

    tree_fx_leave(&t->fx);
    free(t);
    return 0;
}

/* source_read_tree(path): its return, and the text read when 0. */
static int read_tree(const char *path, char *msg, size_t cap)
{
    struct source_file f;
    int rc = source_read_tree(path, SOURCE_FILE_MAX, &f, msg, cap);

    if (rc == 0) {
        assert_null(strstr(f.data, SECRET));
        source_file_free(&f);
    } else {
        assert_null(f.data);
    }
    return rc;
}

static void test_read_tree(void **state)
{
    struct tree *t = *state;
    char msg[256];

    assert_int_equal(read_tree("ok.go", msg, sizeof msg), 0);
    assert_int_equal(read_tree("./sub/ok.go", msg, sizeof msg), 0);
    assert_int_equal(read_tree("sub//ok.go", msg, sizeof msg), 0);

    assert_int_equal(read_tree("innocent.txt", msg, sizeof msg), SOURCE_REFUSED);
    assert_string_equal(msg, "a symbolic link in the working tree");
    assert_int_equal(read_tree("linkdir/id_rsa", msg, sizeof msg), SOURCE_REFUSED);
    assert_string_equal(msg, "under a symbolic link in the working tree");
    assert_int_equal(read_tree("../secret/id_rsa", msg, sizeof msg), SOURCE_REFUSED);
    assert_non_null(strstr(msg, "not a plain relative path"));
    assert_int_equal(read_tree("sub/../../secret/id_rsa", msg, sizeof msg), SOURCE_REFUSED);
    assert_int_equal(read_tree(t->secret, msg, sizeof msg), SOURCE_REFUSED);
    assert_int_equal(read_tree("ok\x1b]0;x\x07.go", msg, sizeof msg), SOURCE_REFUSED);
    /* A FIFO is refused without hanging on its open; so is a directory. */
    assert_int_equal(read_tree("pipe", msg, sizeof msg), SOURCE_REFUSED);
    assert_string_equal(msg, "not a regular file in the working tree");
    assert_int_equal(read_tree("adir", msg, sizeof msg), SOURCE_REFUSED);

    /* Missing: an error as before (the diff promised a file that is not here). */
    assert_int_equal(read_tree("gone.go", msg, sizeof msg), -1);
    assert_string_equal(msg, "gone.go: No such file or directory");
}

/* A git-style section changing path (one hunk, one line). */
static void section(FILE *f, const char *path)
{
    fprintf(f, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n@@ -1 +1 @@\n-x\n+y\n", path, path,
            path, path);
}

/* Runs diffsel_add_jobs on the diff file at path with files (n of them),
 * stderr captured into *err (owns). Returns its status. */
static int run_diffsel(const char *path, const char *const *files, size_t n,
                       struct jobset *js, char **err)
{
    struct cli_args a;
    struct capture c;
    int rc;

    memset(&a, 0, sizeof a);
    a.type = "review";
    a.diff = path;
    for (size_t i = 0; i < n; i++)
        a.files[i] = files[i];
    a.nfiles = n;
    capture_begin_fd(&c, STDERR_FILENO);
    rc = diffsel_add_jobs(&a, js);
    *err = capture_end(&c);
    return rc;
}

static void assert_has(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("'%s' not in:\n%s", needle, text);
}

/* Every form a diff may use to point outside the tree is skipped with a
 * note; the plain files are still reviewed, and no body holds the secret. */
static void test_diff_chooses(void **state)
{
    struct tree *t = *state;
    struct jobset js = {0};
    char diff[256], note[256], *err;
    FILE *f;

    snprintf(diff, sizeof diff, "%s/d.diff", t->fx.root);
    assert_non_null(f = fopen(diff, "w"));
    section(f, "ok.go");
    fprintf(f, "diff --git a/new-link b/new-link\nnew file mode 120000\n"
            "--- /dev/null\n+++ b/new-link\n@@ -0,0 +1 @@\n+../secret/id_rsa\n");
    section(f, "innocent.txt");
    section(f, "linkdir/id_rsa");
    section(f, "../secret/id_rsa");
    fprintf(f, "--- %s\n+++ %s\n@@ -1 +1 @@\n-x\n+y\n", t->secret, t->secret);
    section(f, "pipe");
    section(f, "sub/ok.go");
    assert_int_equal(fclose(f), 0);
    /* new-link does not exist: it is skipped for what the diff says, unread. */
    if (run_diffsel(diff, NULL, 0, &js, &err) != 0)
        fail_msg("diffsel failed:\n%s", err);
    assert_int_equal(js.n, 2);
    assert_string_equal(js.jobs[0].label, "ok.go");
    assert_string_equal(js.jobs[1].label, "sub/ok.go");
    for (size_t i = 0; i < js.n; i++)
        assert_null(strstr(js.jobs[i].body, SECRET));
    assert_has(err, "note: new-link: a symbolic link, skipped");
    assert_has(err, "note: innocent.txt: a symbolic link in the working tree, skipped");
    assert_has(err, "note: linkdir/id_rsa: under a symbolic link in the working tree, skipped");
    assert_has(err, "note: ../secret/id_rsa: not a plain relative path");
    snprintf(note, sizeof note, "note: %s: not a plain relative path", t->secret);
    assert_has(err, note);
    assert_has(err, "note: pipe: not a regular file in the working tree, skipped");
    free(err);
    jobset_cleanup(&js);

    /* A FILE argument is the user's choice: read as named, as before. */
    if (run_diffsel(diff, (const char *[]){"innocent.txt"}, 1, &js, &err) != 0)
        fail_msg("diffsel failed:\n%s", err);
    assert_int_equal(js.n, 1);
    assert_non_null(strstr(js.jobs[0].body, SECRET));
    free(err);
    jobset_cleanup(&js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_chooses, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
