/* diffsel.c - review --diff: which files a unified diff selects, each with
 * its own section of the diff (parsed by common/udiff). A file the diff
 * chooses is read only inside the working directory (source_read_tree):
 * the diff may come from someone else's pull request. */
#include "cli/commands.h"

#include "cli/source.h"
#include "cli/termtext.h"
#include "common/udiff.h"

#include <stdio.h>
#include <string.h>

/* Why a file section is not reviewed, or NULL when it is. chosen: the diff
 * chose the file (no FILE arguments), so a symbolic link is not followed. */
static const char *skip_reason(const struct udiff_file *f, int chosen)
{
    if (f->flags & UDIFF_DELETED)
        return "deleted";
    if (f->flags & UDIFF_BINARY)
        return "binary";
    if (chosen && (f->flags & UDIFF_SYMLINK))
        return "a symbolic link";
    if (f->new_path == NULL)
        return "no file name in the diff";
    if (f->nhunks == 0)
        return "no changed lines";
    return NULL;
}

static int add_section(const struct cli_args *a, struct jobset *js, const char *local,
                       const struct source_file *diff, const struct udiff_file *f, int chosen)
{
    const char *why = skip_reason(f, chosen);

    if (why != NULL) {
        fputs("codeinsight: note: ", stderr);
        termtext_put(stderr, local, TERMTEXT_FLAT);     /* a diff's name */
        fprintf(stderr, ": %s, skipped\n", why);
        return 0;
    }
    return commands_add_review(a, js, local, NULL, diff->data + f->offset, f->len,
                               chosen ? ADD_FROM_DIFF : ADD_NAMED);
}

int diffsel_add_jobs(const struct cli_args *a, struct jobset *js)
{
    size_t max = SOURCE_DIFF_MAX < UDIFF_MAX ? SOURCE_DIFF_MAX : UDIFF_MAX;
    char msg[512], wire[SOURCE_PATH_MAX];
    struct source_file diff;
    struct udiff_err ue;
    struct udiff *d = NULL;
    int rc = 0;

    if (source_read(a->diff, max, &diff, msg, sizeof msg) != 0) {
        fputs("codeinsight: --diff ", stderr);
        termtext_put(stderr, msg, TERMTEXT_FLAT);
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    if (diff.len == 0) {
        fprintf(stderr, "codeinsight: note: the diff is empty\n");
        goto out;
    }
    if (udiff_parse(diff.data, diff.len, &d, &ue) != 0) {
        fprintf(stderr, "codeinsight: --diff: line %ld: ", ue.line);
        termtext_put(stderr, ue.msg, TERMTEXT_FLAT);
        fputc('\n', stderr);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (a->nfiles == 0) {
        for (size_t i = 0; i < d->nfiles && rc == 0; i++) {
            const struct udiff_file *f = &d->files[i];
            const char *name = f->new_path ? f->new_path : f->old_path ? f->old_path : "?";

            rc = add_section(a, js, name, &diff, f, 1);
        }
        goto out;
    }
    for (size_t i = 0; i < a->nfiles && rc == 0; i++) {
        const struct udiff_file *f;

        if (source_wire_path(a->files[i], wire, sizeof wire, msg, sizeof msg) != 0) {
            termtext_say(stderr, msg);
            rc = CLI_EXIT_USAGE;
        } else if ((f = udiff_find(d, wire)) == NULL) {
            fputs("codeinsight: note: ", stderr);
            termtext_put(stderr, a->files[i], TERMTEXT_FLAT);
            fputs(": not in the diff, skipped\n", stderr);
        } else {
            rc = add_section(a, js, a->files[i], &diff, f, 0);
        }
    }
out:
    udiff_free(d);
    source_file_free(&diff);
    return rc;
}
