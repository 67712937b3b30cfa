/* linter_parse.h - the parsers behind linters.c's table: each turns one
 * linter's machine-readable output into findings, as linters.h says of
 * struct linter's parse() (limits, the finding object, -1 on output that
 * is not that linter's). Pure. flake8 and cppcheck print a finding per
 * line (linter_parse_lines.c); pylint, shellcheck and ESLint print JSON
 * (linter_parse_json.c). */
#ifndef CI_LINTER_PARSE_H
#define CI_LINTER_PARSE_H

#include "worker/linters.h"

int parse_flake8(const char *out, size_t len, cJSON *findings);
int parse_pylint(const char *out, size_t len, cJSON *findings);
int parse_shellcheck(const char *out, size_t len, cJSON *findings);
int parse_cppcheck(const char *out, size_t len, cJSON *findings);
int parse_eslint(const char *out, size_t len, cJSON *findings);

#endif
