/* strv.h - a growable, NULL-terminated argv of owned strings, for the
 * command lines the worker builds (the sandbox launcher's).
 *
 * A failed allocation sets oom and makes every later add a no-op, so a
 * builder checks once at the end:
 *
 *     struct strv sv = {0};
 *     strv_add(&sv, "cppcheck");
 *     strv_addf(&sv, "--max-configs=%d", 1);
 *     if (sv.oom) ... ;
 *     run(sv.v);
 *     strv_free(&sv);
 */
#ifndef WK_STRV_H
#define WK_STRV_H

/* Longest string strv_addf formats (a PATH_MAX path with a short prefix
 * fits); longer output is cut. */
#define STRV_FORMAT_MAX 4160

struct strv {
    char **v;       /* v[n] is NULL once anything was added */
    int n, cap;
    int oom;
};

void strv_add(struct strv *sv, const char *s);
void strv_addf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees the strings and the array, and zeroes sv. */
void strv_free(struct strv *sv);

#endif
