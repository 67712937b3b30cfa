/* validate_diff.c - POST /review's diff and filter; see validate_diff.h. */
#include "gateway/validate_diff.h"

#include "common/diff_filter.h"
#include "common/err.h"
#include "common/udiff.h"

#include <stdlib.h>
#include <string.h>

/* The section the request is about into *out. Returns ERR_OK or the error. */
static int pick_section(const struct udiff *d, const char *file_path,
                        const struct udiff_file **out, struct err *e)
{
    const struct udiff_file *f = d->nfiles == 1 ? &d->files[0] : udiff_find(d, file_path);

    *out = f;
    if (f == NULL)
        return err_set_field(e, ERR_DIFF_MISMATCH, "diff", "the diff has %zu file sections "
                             "and none is for file_path", d->nfiles);
    if (f->flags & UDIFF_BINARY)
        return err_set_field(e, ERR_INVALID_DIFF, "diff", "the diff of file_path is binary");
    if (f->flags & UDIFF_DELETED)
        return err_set_field(e, ERR_DIFF_MISMATCH, "diff", "the diff deletes file_path; its "
                             "new side must be file_content");
    if (f->nhunks == 0)
        return err_set_field(e, ERR_INVALID_DIFF, "diff",
                             "the diff changes no line of file_path");
    return ERR_OK;
}

int review_diff_check(struct review_request *r, const char *filter, struct err *e)
{
    const struct udiff_file *f;
    struct udiff *d = NULL;
    struct udiff_err ue;
    char msg[160];
    int flt = DIFF_FILTER_DEFAULT, rc;

    r->filter = NULL;
    if (filter != NULL) {
        if (r->type != JOB_REVIEW)
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, "filter",
                                 "filter applies to review requests only");
        if (r->diff == NULL)
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, "filter",
                                 "filter needs a diff to filter by");
        flt = diff_filter_parse(filter);
        if (flt < 0)
            return err_set_field(e, ERR_INVALID_FIELD_VALUE, "filter",
                                 "filter must be added, diff_context, file or nofilter");
    }
    if (r->diff == NULL)
        return ERR_OK;
    if (udiff_parse(r->diff, strlen(r->diff), &d, &ue) < 0) {
        if (ue.line > 0)
            return err_set_field(e, ERR_INVALID_DIFF, "diff", "diff line %ld: %s", ue.line,
                                 ue.msg);
        return err_set_field(e, ERR_INVALID_DIFF, "diff", "%s", ue.msg);
    }
    if ((rc = pick_section(d, r->file_path, &f, e)) != ERR_OK)
        goto out;
    if (diff_filter_check_text(r->diff, f, r->file_content, strlen(r->file_content), msg,
                               sizeof msg) < 0) {
        rc = err_set_field(e, ERR_DIFF_MISMATCH, "diff", "the diff's new side is not "
                           "file_content: %s", msg);
        goto out;
    }
    r->diff_section = strndup(r->diff + f->offset, f->len);
    if (r->diff_section == NULL) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    r->diff = r->diff_section;
    if (r->type == JOB_REVIEW)
        r->filter = diff_filter_str((enum diff_filter)flt);
    rc = ERR_OK;
out:
    udiff_free(d);
    return rc;
}
