/* json.c - JSON helpers. */
#include "common/json.h"

#include <string.h>

/* Walks the text tracking strings, nesting depth and the current top-level
 * member name; does not validate (cJSON does that). */
int json_find_nul_escape(const char *text, size_t len, char *key, size_t cap)
{
    size_t i = 0, key_start = 0, key_len = 0;
    int depth = 0;
    int expect_key = 0;     /* at depth 1 of an object, the next string is a name */
    int have_key = 0;

    while (i < len) {
        char c = text[i];

        if (c == '"') {
            size_t start = ++i;
            int is_key = depth == 1 && expect_key;
            while (i < len && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < len) {
                    if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0) {
                        size_t n = (have_key && !is_key) ? key_len : 0;
                        if (cap > 0) {
                            if (n >= cap)
                                n = cap - 1;
                            memcpy(key, text + key_start, n);
                            key[n] = '\0';
                        }
                        return 1;
                    }
                    i += 2;
                    continue;
                }
                i++;
            }
            if (is_key) {
                key_start = start;
                key_len = i - start;
                have_key = 1;
                expect_key = 0;
            }
            i++;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
            if (depth == 1)
                expect_key = (c == '{');
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = 1;
            have_key = 0;
        }
        i++;
    }
    return 0;
}

const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
