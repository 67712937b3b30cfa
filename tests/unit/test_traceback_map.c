/* test_traceback_map.c - unit tests for worker/traceback_map.c: which
 * frame of a parsed traceback maps to a submitted source
 * (traceback_root_frame) and the numbered code windows around the frames
 * (traceback_windows). The logs and sources are those of
 * tests/fixtures/tracebacks/ (see test_traceback.c, which tests the
 * parsing). Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "worker/traceback.h"

#include "tests/unit/fixture.h"
#include "tests/unit/jsonassert.h"
#include "tests/unit/tb_fixture.h"

/* ---- root frame ---- */

static struct tb_source src_path(const char *path)
{
    struct tb_source s = {path, "", 0};

    return s;
}

/* Asserts traceback_root_frame's frame index and source index. */
static void assert_root(const cJSON *tb, const struct tb_source *src, int nsrc, int want_frame,
                        int want_src)
{
    int s = 99;

    assert_int_equal(traceback_root_frame(tb, src, nsrc, &s), want_frame);
    assert_int_equal(s, want_src);
}

static void test_root_frame_fixtures(void **state)
{
    cJSON *py = tb_fixture_parse("python_zerodiv.txt");
    cJSON *leak = tb_fixture_parse("asan_leak.txt");
    cJSON *sh = tb_fixture_parse("shell_bash_notfound.txt");
    struct tb_source both[] = {src_path("app/calc.py"), src_path("app/stats.py")};
    struct tb_source calc[] = {src_path("app/calc.py")};
    struct tb_source c[] = {src_path("c/leak.c")};
    struct tb_source script[] = {src_path("README.md"), src_path("sh/run.sh")};

    (void)state;
    /* The innermost frame is in stats.py. */
    assert_root(py, both, 2, 0, 1);
    /* Without stats.py: the report() frame in calc.py. */
    assert_root(py, calc, 1, 1, 0);
    /* The malloc interceptor frame maps to nothing. */
    assert_root(leak, c, 1, 1, 0);
    /* "./sh/run.sh" ends with "/sh/run.sh". */
    assert_root(sh, script, 2, 0, 1);
    /* src_index may be NULL. */
    assert_int_equal(traceback_root_frame(py, both, 2, NULL), 0);
    cJSON_Delete(py);
    cJSON_Delete(leak);
    cJSON_Delete(sh);
}

static void test_root_frame_rules(void **state)
{
    cJSON *tb = cJSON_Parse("{\"frames\":["
                            "{\"file\":\"/usr/lib/python3/x.py\",\"line\":1},"
                            "{\"file\":\"/w/pkg/util.py\",\"line\":2},"
                            "{\"file\":\"main.py\",\"line\":3}]}");
    struct tb_source longest[] = {src_path("util.py"), src_path("pkg/util.py")};
    struct tb_source basename[] = {src_path("lib/util.py")};
    struct tb_source ambiguous[] = {src_path("a/util.py"), src_path("b/util.py"),
                                    src_path("main.py")};
    struct tb_source partial[] = {src_path("kg/util.py")};
    struct tb_source dot[] = {src_path("./main.py")};
    struct tb_source none[] = {src_path("other.py"), {NULL, NULL, 0}};

    (void)state;
    assert_non_null(tb);
    /* Both end the path; the longer one wins. */
    assert_root(tb, longest, 2, 1, 1);
    /* Same basename, one source. */
    assert_root(tb, basename, 1, 1, 0);
    /* Two sources named util.py: frame 1 maps to neither; main.py is exact. */
    assert_root(tb, ambiguous, 3, 2, 2);
    /* "kg/util.py" is a suffix of the bytes but not after a '/'; the basename
     * still matches (only one util.py). */
    assert_root(tb, partial, 1, 1, 0);
    assert_root(tb, dot, 1, 2, 0);
    assert_root(tb, none, 2, -1, -1);
    assert_root(tb, longest, 0, -1, -1);
    assert_root(NULL, longest, 2, -1, -1);
    assert_root(tb, NULL, 2, -1, -1);
    cJSON_Delete(tb);
}

/* Logs from Windows: '\' separates the components of a frame's file. */
static void test_windows_paths_map_by_base_name(void **state)
{
    static const char py_log[] =
        "Traceback (most recent call last):\n"
        "  File \"C:\\Users\\dev\\proj\\main.py\", line 6, in <module>\n"
        "    print(mean([]))\n"
        "  File \"C:\\Users\\dev\\proj\\stats.py\", line 3, in mean\n"
        "    return sum(xs) / len(xs)\n"
        "ZeroDivisionError: division by zero\n";
    static const char node_log[] = "TypeError: boom\n"
                                   "    at f (C:\\app\\index.js:3:11)\n"
                                   "    at C:\\app\\main.js:1:1\n";
    static const char gcc_log[] = "C:\\x.c:5:3: error: expected ';' before '}' token\n";
    cJSON *py = traceback_parse(py_log, sizeof(py_log) - 1);
    cJSON *node = traceback_parse(node_log, sizeof(node_log) - 1);
    cJSON *gcc = traceback_parse(gcc_log, sizeof(gcc_log) - 1);
    struct tb_source stats[] = {src_path("main.py"), src_path("stats.py")};
    struct tb_source two[] = {src_path("lib/stats.py"), src_path("proj/stats.py")};
    struct tb_source js[] = {src_path("main.js"), src_path("index.js")};
    struct tb_source c[] = {src_path("x.c")};

    (void)state;
    /* By base name. */
    assert_root(py, stats, 2, 0, 1);
    assert_root(node, js, 2, 0, 1);
    assert_root(gcc, c, 1, 0, 0);
    /* By suffix: "proj/stats.py" ends "...\proj\stats.py"; two stats.py. */
    assert_root(py, two, 2, 0, 1);
    cJSON_Delete(py);
    cJSON_Delete(node);
    cJSON_Delete(gcc);
}

/* A library's file is not the submitted file of the same name: the
 * innermost frame, in node_modules/lodash/index.js, maps to nothing and the
 * root frame is the user's line 5 in index.js. */
static void test_library_frame_is_not_the_submitted_file(void **state)
{
    static const char node_log[] =
        "/app/node_modules/lodash/index.js:10\n"
        "    return obj.x.y;\n"
        "                 ^\n"
        "\n"
        "TypeError: Cannot read properties of undefined (reading 'y')\n"
        "    at get (/app/node_modules/lodash/index.js:10:18)\n"
        "    at main (/app/index.js:5:3)\n"
        "    at Object.<anonymous> (/app/index.js:8:1)\n";
    cJSON *node = traceback_parse(node_log, sizeof(node_log) - 1);
    cJSON *tb = cJSON_Parse("{\"frames\":["
                            "{\"file\":\"/usr/lib/python3/dist-packages/requests/utils.py\","
                            "\"line\":1},"
                            "{\"file\":\"/v/lib/python3.12/site-packages/utils.py\",\"line\":2},"
                            "{\"file\":\"C:\\\\app\\\\node_modules\\\\x\\\\utils.py\",\"line\":3},"
                            "{\"file\":\"/rustc/5980761/library/std/src/utils.py\",\"line\":4},"
                            "{\"file\":\"/usr/local/go/src/runtime/utils.py\",\"line\":5},"
                            "{\"file\":\"/root/go/pkg/mod/x.io/y@v1/utils.py\",\"line\":6},"
                            "{\"file\":\"/w/app/utils.py\",\"line\":7}]}");
    struct tb_source index[] = {src_path("index.js")};
    struct tb_source utils[] = {src_path("utils.py")};
    struct tb_source vendored[] = {src_path("app/node_modules/lodash/index.js"),
                                   src_path("index.js")};

    (void)state;
    assert_non_null(tb);
    assert_root(node, index, 1, 1, 0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(node, "frames"), 1), "line")->valueint,
                     5);
    /* Packages, toolchains' libraries, Windows paths: the user's utils.py. */
    assert_root(tb, utils, 1, 6, 0);
    /* A vendored copy submitted under node_modules/ is the library's file. */
    assert_root(node, vendored, 2, 0, 0);
    cJSON_Delete(node);
    cJSON_Delete(tb);
}

/* ---- windows ---- */

struct xwindow {
    const char *file;
    int line;
    int start;
    int end;
    const char *code;
};

/* Asserts that traceback_windows(tb, src, nsrc, radius) gives the n
 * windows x (a NULL code is not compared). */
static void assert_windows(const cJSON *tb, const struct tb_source *src, int nsrc, int radius,
                           const struct xwindow *x, int n)
{
    cJSON *w = traceback_windows(tb, src, nsrc, radius);

    assert_true(cJSON_IsArray(w));
    if (cJSON_GetArraySize(w) != n)
        fail_msg("%d windows, want %d", cJSON_GetArraySize(w), n);
    for (int i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(w, i);
        char what[32];
        snprintf(what, sizeof(what), "window %d", i);
        assert_int_equal(cJSON_GetArraySize(o), 6);
        ja_str_is(o, "file", x[i].file, what);
        /* source: the index of the file the window names. */
        assert_string_equal(src[cJSON_GetObjectItemCaseSensitive(o, "source")->valueint].path,
                            x[i].file);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "line")->valueint, x[i].line);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "start")->valueint, x[i].start);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "end")->valueint, x[i].end);
        if (x[i].code != NULL)
            ja_str_is(o, "code", x[i].code, what);
    }
    ja_clean_strings(w);
    cJSON_Delete(w);
}

static void test_windows_python(void **state)
{
    size_t calc_len, stats_len;
    char *calc = fixture_read(TB_FIXTURE_SRC_DIR "app/", "calc.py", &calc_len);
    char *stats = fixture_read(TB_FIXTURE_SRC_DIR "app/", "stats.py", &stats_len);
    struct tb_source src[] = {{"app/calc.py", calc, calc_len}, {"app/stats.py", stats, stats_len}};
    cJSON *tb = tb_fixture_parse("python_zerodiv.txt");
    /* Frames: stats.py:10, calc.py:6, calc.py:12, calc.py:16. With radius
     * 2, 12 [10,14] and 16 [14,16] merge; 6 [4,8] stays apart. */
    static const struct xwindow r2[] = {
        {"app/stats.py", 10, 8, 10,
         "8\tdef average(values):\n9\t    count = len(values)\n"
         "10\t    return total(values) / count\n"},
        {"app/calc.py", 6, 4, 8,
         "\n5\tdef report(values):\n6\t    mean = stats.average(values)\n"
         "7\t    return f\"mean={mean:.2f}\"\n\n"},
        {"app/calc.py", 12, 10, 16,
         "10\tdef main():\n11\t    print(report([3, 4, 5]))\n12\t    print(report([]))\n"
         "\n\n15\tif __name__ == \"__main__\":\n16\t    main()\n"},
    };
    /* With radius 3 the calc.py windows chain into one, keeping line 6. */
    static const struct xwindow r3[] = {
        {"app/stats.py", 10, 7, 10, NULL},
        {"app/calc.py", 6, 3, 16, NULL},
    };
    /* Radius 0: one line each, no merging of 12 and 16. */
    static const struct xwindow r0[] = {
        {"app/stats.py", 10, 10, 10, "10\t    return total(values) / count\n"},
        {"app/calc.py", 6, 6, 6, NULL},
        {"app/calc.py", 12, 12, 12, "12\t    print(report([]))\n"},
        {"app/calc.py", 16, 16, 16, "16\t    main()\n"},
    };

    (void)state;
    assert_windows(tb, src, 2, 2, r2, 3);
    assert_windows(tb, src, 2, 3, r3, 2);
    assert_windows(tb, src, 2, 0, r0, 4);
    /* A negative radius is 0. */
    assert_windows(tb, src, 2, -7, r0, 4);
    /* Nothing maps: []. */
    assert_windows(tb, src, 0, 2, NULL, 0);
    assert_windows(NULL, src, 2, 2, NULL, 0);
    cJSON_Delete(tb);
    free(calc);
    free(stats);
}

/* A source of n lines "line N\n". Returns it (owns), length in *len. */
static char *numbered_source(int n, size_t *len)
{
    char *text = malloc((size_t)n * 16 + 1);
    size_t o = 0;

    assert_non_null(text);
    for (int i = 1; i <= n; i++)
        o += (size_t)snprintf(text + o, 16, "line %d\n", i);
    *len = o;
    return text;
}

static cJSON *frames_at_lines(const char *file, const int *lines, int n)
{
    cJSON *tb = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(tb, "frames");

    for (int i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "file", file);
        cJSON_AddNumberToObject(f, "line", lines[i]);
        cJSON_AddItemToArray(arr, f);
    }
    return tb;
}

static void test_windows_limits(void **state)
{
    size_t len;
    char *text = numbered_source(1000, &len);
    struct tb_source src[] = {{"big.txt", text, len}};
    /* 10 is repeated (deduplicated), 101 merges into 100's window after the
     * cap is reached, 1001 is past the end, 0 and 2e9 are out of range. */
    static const int lines[] = {10, 100, 200, 300, 10, 400, 500, 600, 700, 800, 900, 101,
                                1001, 0, 2000000000};
    cJSON *tb = frames_at_lines("/x/big.txt", lines, (int)(sizeof(lines) / sizeof(lines[0])));
    static const struct xwindow want[TRACEBACK_WINDOWS_MAX] = {
        {"big.txt", 10, 9, 11, "9\tline 9\n10\tline 10\n11\tline 11\n"},
        {"big.txt", 100, 99, 102, "99\tline 99\n100\tline 100\n101\tline 101\n102\tline 102\n"},
        {"big.txt", 200, 199, 201, NULL}, {"big.txt", 300, 299, 301, NULL},
        {"big.txt", 400, 399, 401, NULL}, {"big.txt", 500, 499, 501, NULL},
        {"big.txt", 600, 599, 601, NULL}, {"big.txt", 700, 699, 701, NULL},
    };

    (void)state;
    assert_windows(tb, src, 1, 1, want, TRACEBACK_WINDOWS_MAX);
    cJSON_Delete(tb);

    /* The radius is clamped to TRACEBACK_RADIUS_MAX; windows stop at the
     * file's ends. */
    {
        static const int mid[] = {500, 2};
        static const struct xwindow clamp[] = {
            {"big.txt", 500, 500 - TRACEBACK_RADIUS_MAX, 500 + TRACEBACK_RADIUS_MAX, NULL},
            {"big.txt", 2, 1, 2 + TRACEBACK_RADIUS_MAX, NULL},
        };
        tb = frames_at_lines("big.txt", mid, 2);
        assert_windows(tb, src, 1, 100000, clamp, 2);
        cJSON_Delete(tb);
    }
    free(text);
}

static void test_windows_odd_text(void **state)
{
    /* CRLF, a NUL byte and an ESC, invalid UTF-8, a line longer than
     * TRACEBACK_CODE_LINE_MAX ending in a 2-byte character that straddles the
     * cut, and a last line without newline. */
    static const char head[] = "a\r\nb\0c\n\xff\xfe\x1bok\n";
    char text[2000];
    size_t o = 0;
    char want[1200];
    int k;
    static const int lines[] = {3, 1, 2, 5, 4};
    cJSON *tb = frames_at_lines("odd.c", lines, 5);
    struct tb_source src[] = {{"odd.c", text, 0}};

    (void)state;
    memcpy(text + o, head, sizeof(head) - 1);
    o += sizeof(head) - 1;
    memset(text + o, 'x', TRACEBACK_CODE_LINE_MAX - 1);
    o += TRACEBACK_CODE_LINE_MAX - 1;
    memcpy(text + o, "\xc3\xa9yy\nlast", 9);
    o += 9;
    src[0].len = o;
    k = snprintf(want, sizeof(want), "1\ta\n2\tb c\n3\t?? ok\n4\t%.*s [...]\n5\tlast\n",
                 TRACEBACK_CODE_LINE_MAX - 1, text + sizeof(head) - 1);
    assert_true(k > 0 && (size_t)k < sizeof(want));
    {
        const struct xwindow x[] = {{"odd.c", 3, 1, 5, want}};
        assert_windows(tb, src, 1, 0, x, 1);
    }
    cJSON_Delete(tb);
}

/* Numbered as the excerpt is: blank lines and lines that only close a
 * block go without their number (the debug brain says so). */
static void test_windows_unnumbered_lines(void **state)
{
    static const char text[] = "int f(void)\n{\n\treturn g(1,\n\t         2);\n}\n\nint h;\n";
    static const int lines[] = {3};
    cJSON *tb = frames_at_lines("f.c", lines, 1);
    struct tb_source src[] = {{"f.c", text, sizeof(text) - 1}};
    const struct xwindow x[] = {{"f.c", 3, 1, 7,
        "1\tint f(void)\n2\t{\n3\t\treturn g(1,\n4\t\t         2);\n}\n\n7\tint h;\n"}};

    (void)state;
    assert_windows(tb, src, 1, 4, x, 1);
    cJSON_Delete(tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_frame_fixtures),
        cmocka_unit_test(test_root_frame_rules),
        cmocka_unit_test(test_windows_paths_map_by_base_name),
        cmocka_unit_test(test_library_frame_is_not_the_submitted_file),
        cmocka_unit_test(test_windows_python),
        cmocka_unit_test(test_windows_limits),
        cmocka_unit_test(test_windows_odd_text),
        cmocka_unit_test(test_windows_unnumbered_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
