/* tb_fixture.h - test support: the traceback logs of
 * tests/fixtures/tracebacks/ (see its README), parsed.
 *
 *     cJSON *tb = tb_fixture_parse("python_zerodiv.txt");   // owns
 */
#ifndef TEST_TB_FIXTURE_H
#define TEST_TB_FIXTURE_H

#include "common/json.h"

#define TB_FIXTURE_DIR "tests/fixtures/tracebacks/"
/* The programs whose failures the logs record. */
#define TB_FIXTURE_SRC_DIR TB_FIXTURE_DIR "src/"

/* traceback_parse of the log TB_FIXTURE_DIR + name (owns); fails the test
 * when the file cannot be read or the parse gives NULL. */
cJSON *tb_fixture_parse(const char *name);

#endif
