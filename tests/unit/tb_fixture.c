/* tb_fixture.c - the traceback logs of tests/fixtures/tracebacks/, parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "worker/traceback.h"

#include "tests/unit/fixture.h"
#include "tests/unit/tb_fixture.h"

cJSON *tb_fixture_parse(const char *name)
{
    size_t len;
    char *text = fixture_read(TB_FIXTURE_DIR, name, &len);
    cJSON *tb = traceback_parse(text, len);

    free(text);
    assert_non_null(tb);
    return tb;
}
