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
        cmocka_unit_test(test_rust_backtrace_keeps_the_panic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
