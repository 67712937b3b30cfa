/* test_traceback.c - unit tests for traceback_parse (worker/traceback.c
 * and the tb_*.c parsers); the frames' mapping onto sources is
 * test_traceback_map.c's.
 *
 * tests/fixtures/tracebacks/ holds real logs that gen.sh there captured
 * from the programs in src/ (python3, pytest, node, gcc, clang, ASan and
 * UBSan, bash, dash; see README); go_*.txt follow Go's documented panic
 * format and are written by hand (no Go toolchain here). Each log is parsed
 * and compared field by field. Then adversarial inputs and a bounded fuzz
 * loop with a fixed seed, every output checked against the header's
 * invariants. Run from the repository root; under ASan a leak or an
 * out-of-bounds read fails the binary.
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

/* Where gen.sh runs the programs. */
#define TB "/tmp/codeinsight-tb/"

#define FUZZ_SEED 0x5eed1234u
#define FUZZ_RANDOM_RUNS 3000
#define FUZZ_RANDOM_LEN 2048
#define FUZZ_MUTATIONS 150

/* ---- checking a result ---- */

static void assert_str_or_null(const cJSON *o, const char *key, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    assert_non_null(v);
    assert_true(cJSON_IsNull(v) || cJSON_IsString(v));
    if (cJSON_IsString(v)) {
        assert_true(strlen(v->valuestring) > 0);
        assert_true(strlen(v->valuestring) <= max);
    }
}

static const char *const kinds[] = {
    "python", "pytest", "node", "gcc", "go", "shell", "asan", "ubsan", "unknown",
};

/* The header's promises about any traceback_parse result. */
static void assert_well_formed(const cJSON *tb)
{
    const cJSON *frames, *f;
    const char *kind;
    int known = 0;

    assert_non_null(tb);
    assert_int_equal(cJSON_GetArraySize(tb), 4);
    kind = json_str(tb, "kind");
    assert_non_null(kind);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        known |= strcmp(kind, kinds[i]) == 0;
    assert_true(known);
    assert_str_or_null(tb, "error_type", TRACEBACK_TYPE_MAX);
    assert_str_or_null(tb, "message", TRACEBACK_MESSAGE_MAX);
    frames = cJSON_GetObjectItemCaseSensitive(tb, "frames");
    assert_true(cJSON_IsArray(frames));
    assert_true(cJSON_GetArraySize(frames) <= TRACEBACK_FRAMES_MAX);
    if (strcmp(kind, "unknown") == 0)
        assert_int_equal(cJSON_GetArraySize(frames), 0);
    cJSON_ArrayForEach(f, frames) {
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(f, "line");
        const cJSON *col = cJSON_GetObjectItemCaseSensitive(f, "column");
        const char *file = json_str(f, "file");

        assert_int_equal(cJSON_GetArraySize(f), 4);
        assert_non_null(file);
        assert_true(strlen(file) > 0 && strlen(file) <= TRACEBACK_FILE_MAX);
        assert_true(cJSON_IsNumber(line));
        assert_true(line->valuedouble >= 1 && line->valuedouble <= TRACEBACK_LINE_NO_MAX);
        assert_true(cJSON_IsNull(col) ||
                    (cJSON_IsNumber(col) && col->valuedouble >= 1 &&
                     col->valuedouble <= TRACEBACK_LINE_NO_MAX));
        assert_str_or_null(f, "function", TRACEBACK_FUNCTION_MAX);
    }
    ja_clean_strings(tb);
}

struct xframe {
    const char *file;
    int line;
    int column;             /* 0: null */
    const char *function;   /* NULL: null */
};

static void assert_frame(const cJSON *f, const struct xframe *x, const char *what)
{
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(f, "line");
    const cJSON *col = cJSON_GetObjectItemCaseSensitive(f, "column");

    ja_str_is(f, "file", x->file, what);
    if (!cJSON_IsNumber(line) || line->valueint != x->line)
        fail_msg("%s: line %d, want %d", what, cJSON_IsNumber(line) ? line->valueint : -1,
                 x->line);
    if (x->column == 0 ? !cJSON_IsNull(col) : !cJSON_IsNumber(col) || col->valueint != x->column)
        fail_msg("%s: column %d, want %d", what, cJSON_IsNumber(col) ? col->valueint : 0,
                 x->column);
    ja_str_is(f, "function", x->function, what);
}

/* ---- the captured logs ---- */

#define XFRAMES_MAX 6

struct xlog {
    const char *name;
    const char *kind;
    const char *type;
    const char *message;
    int nframes;
    struct xframe frames[XFRAMES_MAX];      /* the first min(nframes, 6) */
};

static const struct xlog logs[] = {
    {"python_zerodiv.txt", "python", "ZeroDivisionError", "division by zero", 4,
     {{TB "app/stats.py", 10, 0, "average"},
      {TB "app/calc.py", 6, 0, "report"},
      {TB "app/calc.py", 12, 0, "main"},
      {TB "app/calc.py", 16, 0, "<module>"}}},
    /* Three chained tracebacks: the last one counts. */
    {"python_chained.txt", "python", "ConfigError", "missing setting: timeout", 4,
     {{TB "app/config.py", 22, 0, "load"},
      {TB "app/config.py", 26, 0, "<module>"},
      {"<frozen runpy>", 88, 0, "_run_code"},
      {"<frozen runpy>", 198, 0, "_run_module_as_main"}}},
    {"python_syntax.txt", "python", "SyntaxError", "expected ':'", 1,
     {{TB "app/broken.py", 5, 0, NULL}}},
    {"python_indent.txt", "python", "IndentationError", "unexpected indent", 1,
     {{TB "app/indent.py", 3, 0, NULL}}},
    {"python_nomsg.txt", "python", "StopIteration", NULL, 2,
     {{TB "app/bare.py", 2, 0, "stop"},
      {TB "app/bare.py", 5, 0, "<module>"}}},
    /* Long form: functions come from the "def" lines shown. */
    {"pytest_fail.txt", "pytest", "ZeroDivisionError", "division by zero", 2,
     {{"app/stats.py", 10, 0, "average"},
      {"tests/test_calc.py", 9, 0, "test_average_empty"}}},
    {"pytest_short.txt", "pytest", "ZeroDivisionError", "division by zero", 2,
     {{"app/stats.py", 10, 0, "average"},
      {"tests/test_calc.py", 9, 0, "test_average_empty"}}},
    /* --tb=no: only the summary line, cut by pytest itself. */
    {"pytest_summary.txt", "pytest", "ZeroDivisionError", "division b...", 0, {{0}}},
    /* "at Array.map (<anonymous>)" and the node:internal frames are left out. */
    {"node_typeerror.txt", "node", "TypeError",
     "Cannot read properties of undefined (reading 'name')", 4,
     {{TB "app.js", 4, 23, "lookup"},
      {TB "app.js", 8, 38, NULL},
      {TB "app.js", 8, 16, "greet"},
      {TB "app.js", 11, 13, "Object.<anonymous>"}}},
    {"node_esm_error.txt", "node", "Error", "not JSON: hello", 2,
     {{TB "thrower.mjs", 3, 11, "parse"},
      {TB "thrower.mjs", 8, 1, NULL}}},
    /* Only internal frames: the "PATH:LINE" header is the frame. */
    {"node_syntax.txt", "node", "SyntaxError", "Unexpected token ';'", 1,
     {{TB "syntax.js", 3, 0, NULL}}},
    /* The indented "[cause]:" stack is not the error. */
    {"node_cause.txt", "node", "Error", "cannot start", 2,
     {{TB "cause.js", 9, 11, "start"},
      {TB "cause.js", 13, 1, "Object.<anonymous>"}}},
    /* Errors only (no notes, no warnings), function from "In function". */
    {"gcc_error.txt", "gcc", "error",
     "\xe2\x80\x98" "factor\xe2\x80\x99 undeclared (first use in this function)", 2,
     {{"c/compile.c", 6, 16, "scale"},
      {"c/compile.c", 11, 29, "main"}}},
    {"gcc_error_c_locale.txt", "gcc", "error", "'factor' undeclared (first use in this function)",
     2,
     {{"c/compile.c", 6, 16, "scale"},
      {"c/compile.c", 11, 29, "main"}}},
    {"clang_error.txt", "gcc", "error", "use of undeclared identifier 'factor'", 2,
     {{"c/compile.c", 6, 16, NULL},
      {"c/compile.c", 11, 29, NULL}}},
    {"gcc_link.txt", "gcc", "error", "undefined reference to `helper'", 1,
     {{TB "c/link.c", 5, 0, "main"}}},
    /* The "_start (/tmp/.../overflow+0x...)" frame has no file. */
    {"asan_heap_overflow.txt", "asan", "heap-buffer-overflow",
     "WRITE of size 4 at 0x603000000054 thread T0", 4,
     {{TB "c/overflow.c", 6, 14, "fill"},
      {TB "c/overflow.c", 12, 5, "main"},
      {"csu/../sysdeps/nptl/libc_start_call_main.h", 58, 16, "__libc_start_call_main"},
      {"csu/../csu/libc-start.c", 360, 3, "__libc_start_main"}}},
    {"asan_leak.txt", "asan", "memory-leak", "Direct leak of 7 byte(s) in 1 object(s)", 4,
     {{"../../../../src/libsanitizer/asan/asan_malloc_linux.cpp", 69, 0,
       "__interceptor_malloc"},
      {"c/leak.c", 6, 0, "copy"},
      {"c/leak.c", 12, 0, "main"},
      {"../sysdeps/nptl/libc_start_call_main.h", 58, 0, "__libc_start_call_main"}}},
    {"ubsan.txt", "ubsan", "runtime error",
     "signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'", 1,
     {{"c/ub.c", 6, 14, NULL}}},
    {"ubsan_stack.txt", "ubsan", "runtime error",
     "signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'", 4,
     {{"c/ub.c", 6, 14, "bump"},
      {"c/ub.c", 11, 0, "main"},
      {"../sysdeps/nptl/libc_start_call_main.h", 58, 0, "__libc_start_call_main"},
      {"../csu/libc-start.c", 360, 0, "__libc_start_main_impl"}}},
    {"go_panic.txt", "go", "panic", "runtime error: index out of range [5] with length 3", 2,
     {{TB "go/main.go", 8, 0, "main.get"},
      {TB "go/main.go", 13, 0, "main.main"}}},
    /* Only the panicking goroutine; "created by" is not a call. */
    {"go_nil_goroutine.txt", "go", "panic",
     "runtime error: invalid memory address or nil pointer dereference", 2,
     {{TB "go/server.go", 14, 0, "main.(*Server).Handle"},
      {TB "go/main.go", 21, 0, "main.serve"}}},
    {"go_deadlock.txt", "go", "fatal error", "all goroutines are asleep - deadlock!", 1,
     {{TB "go/deadlock.go", 5, 0, "main.main"}}},
    {"shell_bash_notfound.txt", "shell", "command not found", "make_dist: command not found", 1,
     {{"./sh/run.sh", 3, 0, NULL}}},
    {"shell_bash_stdin.txt", "shell", "command not found", "make_dist: command not found", 1,
     {{"bash", 2, 0, NULL}}},
    /* bash reports the line twice (error, then the line's text). */
    {"shell_bash_syntax.txt", "shell", "syntax error", "syntax error near unexpected token `)'",
     1, {{"./sh/bad_syntax.sh", 4, 0, NULL}}},
    {"shell_dash_syntax.txt", "shell", "syntax error", "Syntax error: \"fi\" unexpected", 1,
     {{"./sh/deploy.sh", 5, 0, NULL}}},
    {"shell_dash_notfound.txt", "shell", "command not found", "make_dist: not found", 1,
     {{"dash", 1, 0, NULL}}},
};

static cJSON *parse_fixture(const char *name)
{
    cJSON *tb = tb_fixture_parse(name);

    assert_well_formed(tb);
    return tb;
}

static void assert_log(const cJSON *tb, const struct xlog *x)
{
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(tb, "frames");
    int n = cJSON_GetArraySize(frames);

    ja_str_is(tb, "kind", x->kind, x->name);
    ja_str_is(tb, "error_type", x->type, x->name);
    ja_str_is(tb, "message", x->message, x->name);
    if (n != x->nframes)
        fail_msg("%s: %d frames, want %d", x->name, n, x->nframes);
    for (int i = 0; i < n && i < XFRAMES_MAX; i++) {
        char what[128];
        snprintf(what, sizeof(what), "%s frame %d", x->name, i);
        assert_frame(cJSON_GetArrayItem(frames, i), &x->frames[i], what);
    }
}

static void test_captured_logs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        cJSON *tb = parse_fixture(logs[i].name);
        assert_log(tb, &logs[i]);
        cJSON_Delete(tb);
    }
}

/* ---- inline logs ---- */

static cJSON *parse_str(const char *s)
{
    cJSON *tb = traceback_parse(s, strlen(s));

    assert_well_formed(tb);
    return tb;
}

static void test_inline_formats(void **state)
{
    static const struct xlog inline_logs[] = {
        /* Output before the traceback, CRLF line ends, dotted type. */
        {"Starting\r\nTraceback (most recent call last):\r\n"
         "  File \"a.py\", line 3, in <module>\r\n    f()\r\n"
         "requests.exceptions.HTTPError: 404 Client Error\r\n",
         "python", "requests.exceptions.HTTPError", "404 Client Error", 1,
         {{"a.py", 3, 0, "<module>"}}},
        /* A message that is not "Type: msg". */
        {"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n"
         "Killed by signal 9\n",
         "python", NULL, "Killed by signal 9", 1, {{"a.py", 1, 0, "<module>"}}},
        /* Node error with a code. */
        {"node:internal/modules/cjs/loader:1080\n  throw err;\n  ^\n\n"
         "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/w/x.js'\n"
         "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)\n"
         "    at new Server (/w/srv.js:12:5)\n"
         "    at async main (file:///w/main.mjs:3:1)\n",
         "node", "Error", "Cannot find module '/w/x.js'", 2,
         {{"/w/srv.js", 12, 5, "new Server"}, {"/w/main.mjs", 3, 1, "async main"}}},
        /* Only warnings: they stand in for errors; a fatal error. */
        {"x.c:3:5: warning: unused variable 'a' [-Wunused-variable]\n"
         "x.c:1:1: note: something\n",
         "gcc", "warning", "unused variable 'a' [-Wunused-variable]", 1, {{"x.c", 3, 5, NULL}}},
        {"x.c:1:10: fatal error: nope.h: No such file or directory\ncompilation terminated.\n",
         "gcc", "fatal error", "nope.h: No such file or directory", 1, {{"x.c", 1, 10, NULL}}},
        /* A driver error without a location. */
        {"cc1: fatal error: y.c: No such file or directory\n", "gcc", "fatal error",
         "y.c: No such file or directory", 0, {{0}}},
        /* C++ context and a column-less diagnostic. */
        {"a.cpp: In member function 'void Foo::bar(int)':\na.cpp:7: error: boom\n", "gcc",
         "error", "boom", 1, {{"a.cpp", 7, 0, "void Foo::bar(int)"}}},
        /* ASan SEGV without an access line; a frame with a C++ name. */
        {"==9==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x1 T0)\n"
         "==9==The signal is caused by a READ memory access.\n"
         "    #0 0x4f in std::vector<int, std::allocator<int> >::at(unsigned long) /s/v.cc:9:3\n"
         "    #1 0x50  (/lib/libc.so.6+0x2724a)\n"
         "    #2 0x51 in main /s/m.cc:4\n\n",
         "asan", "SEGV", "SEGV on unknown address 0x000000000000 (pc 0x1 T0)", 2,
         {{"/s/v.cc", 9, 3, "std::vector<int, std::allocator<int> >::at(unsigned long)"},
          {"/s/m.cc", 4, 0, "main"}}},
        /* UBSan errors without a stack: each location, in order. */
        {"a.c:5:7: runtime error: load of null pointer of type 'int'\n"
         "b.c:9:1: runtime error: shift exponent 40 is too large\n",
         "ubsan", "runtime error", "load of null pointer of type 'int'", 2,
         {{"a.c", 5, 7, NULL}, {"b.c", 9, 1, NULL}}},
        /* A nested panic: the first line, without " [recovered]". */
        {"panic: boom [recovered]\n\tpanic: boom\n\ngoroutine 1 [running]:\n"
         "main.f.func1()\n\t/g/a.go:7 +0x1\nmain.main()\n\t/g/a.go:12\n",
         "go", "panic", "boom", 2,
         {{"/g/a.go", 7, 0, "main.f.func1"}, {"/g/a.go", 12, 0, "main.main"}}},
        /* A bash script run via PATH, then another error. */
        {"/usr/local/bin/deploy: line 7: cd: /nope: No such file or directory\n"
         "/usr/local/bin/deploy: line 9: $1: unbound variable\n",
         "shell", "no such file or directory", "cd: /nope: No such file or directory", 2,
         {{"/usr/local/bin/deploy", 7, 0, NULL}, {"/usr/local/bin/deploy", 9, 0, NULL}}},
        /* "Error: 5: x" is not a shell error (no path, *.sh or shell). */
        {"Error: 5: bad input\n", "unknown", NULL, "Error: 5: bad input", 0, {{0}}},
        /* Java is not supported: unknown, its exception line the message. */
        {"Exception in thread \"main\" java.lang.IllegalStateException: x\n"
         "\tat Main.main(Main.java:5)\n",
         "unknown", NULL, "Exception in thread \"main\" java.lang.IllegalStateException: x", 0,
         {{0}}},
        {"make: *** [Makefile:3: all] Error 2\nsome trailing words\n", "unknown", NULL,
         "make: *** [Makefile:3: all] Error 2", 0, {{0}}},
        {"all good\n", "unknown", NULL, NULL, 0, {{0}}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(inline_logs) / sizeof(inline_logs[0]); i++) {
        cJSON *tb = parse_str(inline_logs[i].name);
        assert_log(tb, &inline_logs[i]);
        cJSON_Delete(tb);
    }
}

/* ---- Node's error lines ---- */

/* Each log's parse as one xlog (its name is the log). */
static void assert_logs(const struct xlog *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON *tb = parse_str(x[i].name);
        assert_log(tb, &x[i]);
        cJSON_Delete(tb);
    }
}

/* node 18-22 on assert(x === 2): the generated message is followed by a
 * blank line and the indented expression before the stack. */
static void test_node_assert_generated_message(void **state)
{
    static const struct xlog want[] = {
        {"node:internal/assert/utils:281\n"
         "    throw err;\n"
         "    ^\n"
         "\n"
         "AssertionError [ERR_ASSERTION]: The expression evaluated to a falsy value:\n"
         "\n"
         "  assert(x === 2)\n"
         "\n"
         "    at Object.<anonymous> (/app/t.js:3:1)\n"
         "    at Module._compile (node:internal/modules/cjs/loader:1521:14)\n"
         "    at node:internal/main/run_main_module:28:49 {\n"
         "  generatedMessage: true,\n"
         "  code: 'ERR_ASSERTION',\n"
         "  actual: false,\n"
         "  expected: true,\n"
         "  operator: '=='\n"
         "}\n"
         "\n"
         "Node.js v18.19.1\n",
         "node", "AssertionError", "The expression evaluated to a falsy value:", 1,
         {{"/app/t.js", 3, 1, "Object.<anonymous>"}}},
    };

    (void)state;
    assert_logs(want, sizeof(want) / sizeof(want[0]));
}

/* throw new Error("first line\n  second line"): the message's indented
 * second line is not a "[cause]:". */
static void test_node_multiline_message(void **state)
{
    static const struct xlog want[] = {
        {"/app/t3.js:1\n"
         "function f(){ throw new Error(\"first line\\n  second line\"); }\n"
         "              ^\n"
         "\n"
         "Error: first line\n"
         "  second line\n"
         "    at f (/app/t3.js:1:21)\n"
         "    at Object.<anonymous> (/app/t3.js:2:1)\n",
         "node", "Error", "first line", 2,
         {{"/app/t3.js", 1, 21, "f"}, {"/app/t3.js", 2, 1, "Object.<anonymous>"}}},
    };

    (void)state;
    assert_logs(want, sizeof(want) / sizeof(want[0]));
}

/* What the two above must not change (node 20's output): a cause whose
 * message spans lines, and AggregateError's "[errors]:" stacks, second
 * one included, stay nested; the outer error is the error. */
static void test_node_nested_errors_stay_nested(void **state)
{
    static const struct xlog want[] = {
        {"/w/t5.js:1\n"
         "async function f(){ throw new Error(\"x\", {cause: new Error(\"inner\\n  two\")}); }\n"
         "                          ^\n"
         "\n"
         "Error: x\n"
         "    at f (/w/t5.js:1:27)\n"
         "    at Object.<anonymous> (/w/t5.js:2:1)\n"
         "    ... 5 lines matching cause stack trace ...\n"
         "    at node:internal/main/run_main_module:28:49 {\n"
         "  [cause]: Error: inner\n"
         "    two\n"
         "      at f (/w/t5.js:1:50)\n"
         "      at Object.<anonymous> (/w/t5.js:2:1)\n"
         "}\n",
         "node", "Error", "x", 2,
         {{"/w/t5.js", 1, 27, "f"}, {"/w/t5.js", 2, 1, "Object.<anonymous>"}}},
        {"/w/t4.js:2\n"
         "throw e;\n"
         "^\n"
         "\n"
         "AggregateError: many\n"
         "    at Object.<anonymous> (/w/t4.js:1:11)\n"
         "    at node:internal/main/run_main_module:28:49 {\n"
         "  [errors]: [\n"
         "    Error: a\n"
         "        at Object.<anonymous> (/w/t4.js:1:31)\n"
         "        at node:internal/main/run_main_module:28:49,\n"
         "    TypeError: b\n"
         "        at Object.<anonymous> (/w/t4.js:1:47)\n"
         "        at node:internal/main/run_main_module:28:49\n"
         "  ]\n"
         "}\n",
         "node", "AggregateError", "many", 1, {{"/w/t4.js", 1, 11, "Object.<anonymous>"}}},
    };

    (void)state;
    assert_logs(want, sizeof(want) / sizeof(want[0]));
}

/* rustc 1.95 with RUST_BACKTRACE=1: the backtrace's "at FILE:L:C" lines
 * are not a Node stack, and no frame line is the message; the panic line
 * is, as without the backtrace. Nor is a Java frame naming an Error. */
static void test_rust_backtrace_keeps_the_panic(void **state)
{
    static const struct xlog want[] = {
        {"thread 'main' (466) panicked at main.rs:2:5:\n"
         "index out of bounds: the len is 3 but the index is 5\n"
         "stack backtrace:\n"
         "   0: __rustc::rust_begin_unwind\n"
         "             at /rustc/5980761/library/std/src/panicking.rs:689:5\n"
         "   1: core::panicking::panic_fmt\n"
         "             at /rustc/5980761/library/core/src/panicking.rs:80:14\n"
         "   3: main::get\n"
         "             at ./main.rs:2:5\n"
         "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose "
         "backtrace.\n",
         "unknown", NULL, "thread 'main' (466) panicked at main.rs:2:5:", 0, {{0}}},
        {"Exception in thread \"main\" java.lang.IllegalStateException: x\n"
         "\tat com.a.ErrorHandler.handle(ErrorHandler.java:5)\n",
         "unknown", NULL, "Exception in thread \"main\" java.lang.IllegalStateException: x", 0,
         {{0}}},
    };

    (void)state;
    assert_logs(want, sizeof(want) / sizeof(want[0]));
}

/* ---- robustness ---- */

/* Appends to a growing log (test helper; aborts the test on overflow). */
struct logbuf {
    char *p;
    size_t n;
    size_t cap;
};

static void logbuf_add(struct logbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void logbuf_str(struct logbuf *b, const char *s)
{
    logbuf_add(b, s, strlen(s));
}

static int frame_line_at(const cJSON *tb, int i)
{
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tb, "frames"), i);

    return cJSON_GetObjectItemCaseSensitive(f, "line")->valueint;
}

static void test_many_frames(void **state)
{
    struct logbuf b = {0};
    char line[128];
    cJSON *tb;

    (void)state;
    /* Python prints the innermost frame last: the last 64 are kept. (Short
     * lines, so that all 10,000 fit in TRACEBACK_LOG_MAX.) */
    logbuf_str(&b, "Traceback (most recent call last):\n");
    for (int i = 1; i <= 10000; i++) {
        snprintf(line, sizeof(line), "File \"r\", line %d\n", i);
        logbuf_str(&b, line);
    }
    assert_true(b.n < TRACEBACK_LOG_MAX);
    logbuf_str(&b, "RecursionError: maximum recursion depth exceeded\n");
    tb = traceback_parse(b.p, b.n);
    assert_well_formed(tb);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tb, "frames")),
                     TRACEBACK_FRAMES_MAX);
    assert_int_equal(frame_line_at(tb, 0), 10000);
    assert_int_equal(frame_line_at(tb, TRACEBACK_FRAMES_MAX - 1), 10000 - TRACEBACK_FRAMES_MAX + 1);
    ja_str_is(tb, "error_type", "RecursionError", "python 10000");
    cJSON_Delete(tb);

    /* Node prints the innermost first: the first 64 are kept. */
    b.n = 0;
    logbuf_str(&b, "RangeError: Maximum call stack size exceeded\n");
    for (int i = 1; i <= 10000; i++) {
        snprintf(line, sizeof(line), "    at f (/w/r.js:%d:3)\n", i);
        logbuf_str(&b, line);
    }
    tb = traceback_parse(b.p, b.n);
    assert_well_formed(tb);
    ja_str_is(tb, "kind", "node", "node 10000");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tb, "frames")),
                     TRACEBACK_FRAMES_MAX);
    assert_int_equal(frame_line_at(tb, 0), 1);
    assert_int_equal(frame_line_at(tb, TRACEBACK_FRAMES_MAX - 1), TRACEBACK_FRAMES_MAX);
    cJSON_Delete(tb);
    free(b.p);
}

static void test_number_overflow(void **state)
{
    static const struct xlog overflow[] = {
        {"Traceback (most recent call last):\n"
         "  File \"a.py\", line 99999999999999999999, in f\n"
         "  File \"a.py\", line 1000000000, in g\n"
         "  File \"a.py\", line 999999999, in h\n"
         "  File \"a.py\", line 0, in i\n"
         "ValueError: x\n",
         "python", "ValueError", "x", 1, {{"a.py", 999999999, 0, "h"}}},
        {"TypeError: t\n    at f (/a.js:1:99999999999999)\n"
         "    at g (/a.js:18446744073709551617:1)\n"
         "    at h (/a.js:2:3)\n",
         "node", "TypeError", "t", 1, {{"/a.js", 2, 3, "h"}}},
        {"panic: p\n\ngoroutine 1 [running]:\nmain.f()\n\t/g.go:4294967296 +0x1\n"
         "main.main()\n\t/g.go:3\n",
         "go", "panic", "p", 1, {{"/g.go", 3, 0, "main.main"}}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(overflow) / sizeof(overflow[0]); i++) {
        cJSON *tb = parse_str(overflow[i].name);
        assert_log(tb, &overflow[i]);
        cJSON_Delete(tb);
    }
}

static void test_bad_bytes(void **state)
{
    /* Invalid UTF-8 in the file, function and type, a NUL and a surrogate
     * in the message, a sequence cut by the end of the log. */
    static const char log[] = "Traceback (most recent call last):\n"
                              "  File \"/w/\xff.py\", line 2, in f\xc3\n"
                              "Bad\xe9" "Error: a\0b \xed\xa0\x80 c\xe2\x82";
    static const struct xlog want = {
        "bad bytes", "python", NULL, "Bad?Error: a b ??? c??", 1, {{"/w/?.py", 2, 0, "f?"}},
    };
    cJSON *tb = traceback_parse(log, sizeof(log) - 1);

    (void)state;
    assert_well_formed(tb);
    assert_log(tb, &want);
    cJSON_Delete(tb);
}

static void test_caps(void **state)
{
    struct logbuf b = {0};
    char *big = malloc(TRACEBACK_LOG_MAX + 1);
    const char *s;
    cJSON *tb;

    (void)state;
    assert_non_null(big);
    /* A 200 KB message, a 1 KB+ function, a file longer than the limit. */
    logbuf_str(&b, "Traceback (most recent call last):\n  File \"");
    memset(big, 'd', TRACEBACK_FILE_MAX + 1);
    logbuf_add(&b, big, TRACEBACK_FILE_MAX + 1);
    logbuf_str(&b, "\", line 1, in f\n  File \"ok.py\", line 2, in ");
    memset(big, 'g', 5000);
    logbuf_add(&b, big, 5000);
    logbuf_str(&b, "\nValueError: \xc3\xa9");
    memset(big, 'm', 200000);
    logbuf_add(&b, big, 200000);
    logbuf_str(&b, "\n");
    tb = traceback_parse(b.p, b.n);
    assert_well_formed(tb);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tb, "frames")), 1);
    s = json_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tb, "frames"), 0),
                 "function");
    assert_int_equal(strlen(s), TRACEBACK_FUNCTION_MAX);
    assert_string_equal(s + TRACEBACK_FUNCTION_MAX - 3, "...");
    s = json_str(tb, "message");
    assert_int_equal(strlen(s), TRACEBACK_MESSAGE_MAX);
    assert_memory_equal(s, "\xc3\xa9mmm", 5);
    assert_string_equal(s + TRACEBACK_MESSAGE_MAX - 3, "...");
    cJSON_Delete(tb);

    /* Only the first TRACEBACK_LOG_MAX bytes are read. */
    b.n = 0;
    memset(big, '\n', TRACEBACK_LOG_MAX);
    logbuf_add(&b, big, TRACEBACK_LOG_MAX - 40);
    logbuf_str(&b, "main.c:3:1: error: early\n");
    logbuf_add(&b, big, 40);
    logbuf_str(&b, "main.c:4:1: error: late\n");
    tb = traceback_parse(b.p, b.n);
    assert_well_formed(tb);
    ja_str_is(tb, "message", "early", "log max");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tb, "frames")), 1);
    cJSON_Delete(tb);
    /* A huge single line. */
    memset(big, 'A', TRACEBACK_LOG_MAX);
    tb = traceback_parse(big, TRACEBACK_LOG_MAX);
    assert_well_formed(tb);
    ja_str_is(tb, "kind", "unknown", "huge line");
    ja_str_is(tb, "message", NULL, "huge line");
    cJSON_Delete(tb);

    tb = traceback_parse(NULL, 0);
    assert_well_formed(tb);
    ja_str_is(tb, "kind", "unknown", "NULL");
    cJSON_Delete(tb);
    tb = traceback_parse(NULL, 100);
    assert_well_formed(tb);
    cJSON_Delete(tb);
    free(big);
    free(b.p);
}

/* xorshift32: a fixed sequence, independent of the C library. */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Pieces of each format, so that random logs reach every parser; each
 * run draws from one family and the common pieces. */
static const char *const families[][12] = {
    {"Traceback (most recent call last):\n", "  File \"", "\", line ", ", in ", "ValueError: ",
     "    x\n", "During handling", "  File \"a.py\", line 3, in f\n"},
    {"=== FAILURES ===\n", "____ t ____\n", "E   ", "a.py:3: ", "in f\n", "    def f(",
     "FAILED a::b - ", "_ _ _\n", "-- Captured stdout call --\n", "> ", "AssertionError"},
    {"    at ", "f (", "/w/b.js:", "3:4)", "file://", "node:internal/x:1:2)", "Error: ",
     "TypeError: x\n", "    ... 5 lines matching cause stack trace ...\n", "  [cause]: ",
     "    at g (/w/c.js:1:2)\n", "eval at "},
    {": error: ", ": warning: ", ": note: ", "x.c:3:4", ": In function '", "':\n",
     "\xe2\x80\x98", "\xe2\x80\x99:", "undefined reference to ", "/usr/bin/ld: ",
     ": in function `", "collect2: error: "},
    {"panic: ", "fatal error: ", "goroutine 1 [running]:\n", "main.f(", ")\n", "\t/g/a.go:",
     " +0x1", "created by ", " [recovered]", "\tpanic: "},
    {"./x.sh", "bash", "dash", ": line ", ": ", "command not found", "Syntax error",
     "/bin/run: ", "./x.sh: line 3: ", "sh: 1: "},
    {"==1==ERROR: AddressSanitizer: ", "==1==ERROR: LeakSanitizer: ", "    #0 0x1 in ", "f ",
     "(/bin/x+0x1)", "SUMMARY: AddressSanitizer: ", "READ of size ", "Direct leak of ",
     " allocated from:", "heap-use-after-free on "},
    {": runtime error: ", "a.c:5:7", "    #1 0x2 in ", "==1==ERROR: UndefinedBehaviorSanitizer: ",
     "g /w/b.c:9"},
};

static const char *const common_pieces[] = {
    "\n", "\r\n", " ", ":", "12", "99999999999", "0", "\0", "\xff", "\xc3", "(", ")", "\t",
    "a.py", "/w/b.c", "error",
};

#define FAMILIES (sizeof(families) / sizeof(families[0]))
#define COMMON_PIECES (sizeof(common_pieces) / sizeof(common_pieces[0]))

/* A random piece of family f, or a common one. */
static const char *piece(uint32_t *seed, size_t f)
{
    size_t n = 0;

    while (n < 12 && families[f][n] != NULL)
        n++;
    if (rnd(seed) % 3 == 0)
        return common_pieces[rnd(seed) % COMMON_PIECES];
    return families[f][rnd(seed) % n];
}

/* Parses log and checks every output; returns the kind's index in kinds[]. */
static size_t check_all(const char *log, size_t len)
{
    struct tb_source src[] = {{"a.py", "x\ny\n", 4}, {"b.c", "\xff\0z", 3}, {"x.sh", "", 0}};
    cJSON *tb = traceback_parse(log, len), *w;
    int s;
    int i;

    assert_well_formed(tb);
    i = traceback_root_frame(tb, src, 3, &s);
    assert_true(i >= -1 && i < TRACEBACK_FRAMES_MAX);
    assert_true(i == -1 ? s == -1 : (s >= 0 && s < 3));
    w = traceback_windows(tb, src, 3, 2);
    assert_non_null(w);
    assert_true(cJSON_GetArraySize(w) <= TRACEBACK_WINDOWS_MAX);
    /* Windows come only from frames that map. */
    if (i == -1)
        assert_int_equal(cJSON_GetArraySize(w), 0);
    ja_clean_strings(w);
    cJSON_Delete(w);
    for (i = 0; strcmp(kinds[i], json_str(tb, "kind")) != 0; i++)
        ;
    cJSON_Delete(tb);
    return (size_t)i;
}

static void test_fuzz_random(void **state)
{
    uint32_t seed = FUZZ_SEED;
    char *buf = malloc(FUZZ_RANDOM_LEN + 64);
    int seen[sizeof(kinds) / sizeof(kinds[0])] = {0};

    (void)state;
    assert_non_null(buf);
    for (int run = 0; run < FUZZ_RANDOM_RUNS; run++) {
        size_t want = rnd(&seed) % FUZZ_RANDOM_LEN, n = 0;
        int raw = run % 5 == 0;         /* a fifth plain random bytes */

        while (n < want) {
            if (raw || rnd(&seed) % 3 == 0) {
                buf[n++] = (char)rnd(&seed);
            } else {
                const char *p = piece(&seed, (size_t)run % FAMILIES);
                size_t k = *p != '\0' ? strlen(p) : 1;
                if (n + k > want)
                    break;
                memcpy(buf + n, p, k);
                n += k;
            }
        }
        seen[check_all(buf, n)]++;
    }
    free(buf);
    /* The pieces lead the random logs into every parser. */
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (seen[k] == 0)
            fail_msg("no random log was read as %s", kinds[k]);
}

static void test_fuzz_mutations(void **state)
{
    uint32_t seed = FUZZ_SEED ^ 0xa5a5a5a5u;

    (void)state;
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        size_t len;
        char *text = fixture_read(TB_FIXTURE_DIR, logs[i].name, &len);
        char *m = malloc(len + 1);

        assert_non_null(m);
        for (int run = 0; run < FUZZ_MUTATIONS; run++) {
            size_t n = len, flips = 1 + rnd(&seed) % 8;
            memcpy(m, text, len);
            for (size_t k = 0; k < flips && len > 0; k++)
                m[rnd(&seed) % len] = (char)rnd(&seed);
            if (run % 3 == 0 && len > 0)
                n = rnd(&seed) % len;   /* truncated anywhere */
            check_all(m, n);
        }
        free(m);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_logs),
        cmocka_unit_test(test_inline_formats),
        cmocka_unit_test(test_node_assert_generated_message),
        cmocka_unit_test(test_node_multiline_message),
        cmocka_unit_test(test_node_nested_errors_stay_nested),
        cmocka_unit_test(test_rust_backtrace_keeps_the_panic),
        cmocka_unit_test(test_many_frames),
        cmocka_unit_test(test_number_overflow),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_fuzz_random),
        cmocka_unit_test(test_fuzz_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
