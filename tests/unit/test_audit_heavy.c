/* test_audit_heavy.c - audit reproductions for the heavy pool's tasks and
 * the result exports (Debug Doctor windows, fixes, exports). */
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

/* ---- traceback parsing and mapping ---- */

static cJSON *parse(const char *log)
{
    cJSON *tb = traceback_parse(log, strlen(log));

    assert_non_null(tb);
    return tb;
}

/* A library frame innermost: node_modules/lodash/index.js maps onto the
 * submitted index.js (suffix "/index.js"), so the root frame is the
 * library's line 10, not the user's line 5. */
static void test_library_frame_is_not_the_submitted_file(void **state)
{
    cJSON *tb = parse(
        "/app/node_modules/lodash/index.js:10\n"
        "    return obj.x.y;\n"
        "                 ^\n"
        "\n"
        "TypeError: Cannot read properties of undefined (reading 'y')\n"
        "    at get (/app/node_modules/lodash/index.js:10:18)\n"
        "    at main (/app/index.js:5:3)\n"
        "    at Object.<anonymous> (/app/index.js:8:1)\n");
    struct tb_source src[1] = {{"index.js", "a\na\na\na\na\na\na\na\na\na\na\n", 22}};
    int s = -1, root = traceback_root_frame(tb, src, 1, &s);

    (void)state;
    assert_true(root >= 0);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(tb, "frames"), root), "line")), 5);
    cJSON_Delete(tb);
}

/* rustc 1.95, RUST_BACKTRACE=1: the "             at FILE:L:C" lines read
 * as Node frames, every stack is taken for a "[cause]", and the panic
 * message is lost (without the backtrace, "unknown" keeps it). */
static void test_rust_backtrace_keeps_the_panic(void **state)
{
    cJSON *tb = parse(
        "thread 'main' (466) panicked at main.rs:2:5:\n"
        "index out of bounds: the len is 3 but the index is 5\n"
        "stack backtrace:\n"
        "   0: __rustc::rust_begin_unwind\n"
        "             at /rustc/5980761/library/std/src/panicking.rs:689:5\n"
        "   1: core::panicking::panic_fmt\n"
        "             at /rustc/5980761/library/core/src/panicking.rs:80:14\n"
        "   3: main::get\n"
        "             at ./main.rs:2:5\n"
        "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose "
        "backtrace.\n");

    (void)state;
    assert_non_null(json_str(tb, "message"));
    cJSON_Delete(tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_frame_is_not_the_submitted_file),
        cmocka_unit_test(test_rust_backtrace_keeps_the_panic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
