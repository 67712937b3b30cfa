/* language.c - file extensions to canonical language names (language.h). */
#include "common/language.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct ext_map {
    const char *ext;    /* without the dot */
    const char *lang;   /* canonical name */
};

static const struct ext_map extensions[] = {
    {"py", "python"}, {"pyw", "python"}, {"pyi", "python"},
    {"sh", "shell"}, {"bash", "shell"}, {"ksh", "shell"}, {"dash", "shell"},
    {"c", "c"}, {"h", "c"},
    {"cc", "cpp"}, {"cpp", "cpp"}, {"cxx", "cpp"}, {"c++", "cpp"},
    {"hh", "cpp"}, {"hpp", "cpp"}, {"hxx", "cpp"}, {"h++", "cpp"},
    {"js", "javascript"}, {"mjs", "javascript"}, {"cjs", "javascript"},
    {"jsx", "javascript"},
    {"ts", "typescript"}, {"tsx", "typescript"}, {"mts", "typescript"},
    {"cts", "typescript"},
    {"go", "go"}, {"rs", "rust"}, {"java", "java"},
    {"kt", "kotlin"}, {"kts", "kotlin"}, {"rb", "ruby"}, {"php", "php"},
    {"cs", "csharp"}, {"swift", "swift"}, {"scala", "scala"},
    {"pl", "perl"}, {"pm", "perl"}, {"lua", "lua"},
};

const char *language_from_path(const char *path)
{
    const char *base, *dot;

    if (path == NULL)
        return NULL;
    base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    dot = strrchr(base, '.');
    /* No dot, or only a leading one (".bashrc"): no extension. */
    if (dot == NULL || dot == base || dot[1] == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
        if (strcasecmp(dot + 1, extensions[i].ext) == 0)
            return extensions[i].lang;
    return NULL;
}
