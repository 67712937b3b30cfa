/* redact.c - the `redact` phase of `make bench`: times worker/redact.c on
 * code without secrets and on each input built to make a backtracking or
 * rescanning matcher quadratic (tests/unit/redact_inputs.h), at 1 MiB and at
 * 8 MiB, so that bench/run.py can report the throughput and how the time
 * grows with the size (linear: about 8x for 8x the input; quadratic: 64x).
 *
 *   redact CLEAN_FILE      (tests/fixtures/secrets/negatives.txt)
 *
 * Prints one JSON object per line:
 *   {"input":"clean","bytes":1048576,"ms":12.3,"secrets":0}
 * with the best of REPEATS runs, the two sizes measured in turn. Exit 0, or 1
 * when the file cannot be read or memory runs out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "worker/redact.h"

#include "tests/unit/redact_inputs.h"

#define MIB ((size_t)1024 * 1024)
#define CLEAN_MAX MIB
#define REPEATS 3

static const size_t sizes[] = {MIB, 8 * MIB};

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static char *read_clean(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(CLEAN_MAX);

    *len = 0;
    if (f == NULL || buf == NULL) {
        if (f != NULL)
            fclose(f);
        free(buf);
        return NULL;
    }
    *len = fread(buf, 1, CLEAN_MAX, f);
    fclose(f);
    if (*len == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A json_sink onto a stdio stream. */
static void file_sink(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, ctx);
}

#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Times redact_text on unit repeated to each of sizes, the sizes taking
 * turns within each of REPEATS rounds: a slow spell of the machine then
 * slows both sizes, not the growth. Prints the best of each size; 0, or -1
 * out of memory. */
static int measure(const char *name, const char *unit, size_t n, char *buf)
{
    struct redact_result res;
    double best[N_SIZES], t0, ms;
    int secrets[N_SIZES];
    size_t s;
    int r;

    for (r = 0; r < REPEATS; r++) {
        for (s = 0; s < N_SIZES; s++) {
            redact_fill(buf, sizes[s], unit, n);
            t0 = now_ms();
            if (redact_text(buf, sizes[s], &res) != 0)
                return -1;
            ms = now_ms() - t0;
            secrets[s] = res.count;
            redact_result_cleanup(&res);
            if (r == 0 || ms < best[s])
                best[s] = ms;
        }
    }
    for (s = 0; s < N_SIZES; s++) {
        fputs("{\"input\":", stdout);
        json_write_string(file_sink, stdout, name, strlen(name));
        printf(",\"bytes\":%zu,\"ms\":%.3f,\"secrets\":%d}\n", sizes[s], best[s], secrets[s]);
    }
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    size_t clean_len, u;
    char *clean, *buf;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CLEAN_FILE\n", argv[0]);
        return 1;
    }
    clean = read_clean(argv[1], &clean_len);
    buf = malloc(sizes[N_SIZES - 1]);
    if (clean == NULL || buf == NULL) {
        fprintf(stderr, "redact: cannot read %s or out of memory\n", argv[1]);
        free(clean);
        free(buf);
        return 1;
    }
    if (measure("clean", clean, clean_len, buf) != 0)
        goto oom;
    for (u = 0; u < REDACT_PATHOLOGICAL_N; u++)
        if (measure(REDACT_PATHOLOGICAL[u], REDACT_PATHOLOGICAL[u], strlen(REDACT_PATHOLOGICAL[u]),
                    buf) != 0)
            goto oom;
    free(clean);
    free(buf);
    return 0;
oom:
    fprintf(stderr, "redact: out of memory\n");
    free(clean);
    free(buf);
    return 1;
}
