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

/* 1 when the line at p (up to end) begins, after blanks, with a word that
 * only C++ has at a line's start. */
static int cpp_line(const char *p, const char *end)
{
    static const char *const starts[] = {"class ", "namespace ", "template", "public:",
                                         "private:", "protected:", "using namespace "};

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        size_t n = strlen(starts[i]);
        if ((size_t)(end - p) >= n && memcmp(p, starts[i], n) == 0)
            return 1;
    }
    return 0;
}

/* 1 when text[0..len) reads as C++ (language_from_source's markers). */
static int reads_as_cpp(const char *text, size_t len)
{
    const char *p = text, *end;

    if (len > LANGUAGE_SNIFF_MAX)
        len = LANGUAGE_SNIFF_MAX;
    end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl != NULL ? nl : end;
        if (cpp_line(p, le) || memmem(p, (size_t)(le - p), "std::", 5) != NULL)
            return 1;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return 0;
}

const char *language_from_source(const char *path, const char *text, size_t len)
{
    const char *lang = language_from_path(path), *dot;

    if (lang == NULL || strcmp(lang, "c") != 0 || text == NULL)
        return lang;
    dot = strrchr(path, '.');
    return strcasecmp(dot + 1, "h") == 0 && reads_as_cpp(text, len) ? "cpp" : lang;
}
